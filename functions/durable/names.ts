/** Entity and orchestration names shared by the registration (functions/durable) and the client side. */
export const SESSION_ENTITY = 'session';
/** Per worker: its liveness (last beat), the sessions it holds and the ones it must let go of. */
export const WORKER_ENTITY = 'worker';
/** One per task hub: live sessions per worker, as the worker supervisors last reported them (scale signal). */
export const FLEET_ENTITY = 'fleet';
export const FLEET_KEY = 'all';
export const SESSION_OPERATION_ORCHESTRATION = 'sessionOperation';
export const SESSION_SUPERVISOR_ORCHESTRATION = 'sessionSupervisor';
export const WORKER_SUPERVISOR_ORCHESTRATION = 'workerSupervisor';
export const supervisorInstanceId = (sessionId: string) => `supervisor-${sessionId}`;
export const workerSupervisorInstanceId = (workerId: string) => `worker-${workerId}`;
/** Entity instance ids as the extension names them (`@name@key`): what purge and status calls take. */
export const entityInstanceId = (name: string, key: string) => `@${name.toLowerCase()}@${key}`;
/** Operation orchestrations carry their session in their id, so the session's entity can list them for purge. */
export const operationInstanceId = (sessionId: string, nonce: string) => `op-${sessionId}-${nonce}`;
