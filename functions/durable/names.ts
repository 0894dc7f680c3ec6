/** Entity and orchestration names shared by the registration (functions/durable) and the client side. */
export const SESSION_ENTITY = 'session';
/** Per worker: sessions the `session` entities told it to drop (read on the worker's next heartbeat). */
export const WORKER_ENTITY = 'worker';
export const SESSION_OPERATION_ORCHESTRATION = 'sessionOperation';
export const SESSION_SUPERVISOR_ORCHESTRATION = 'sessionSupervisor';
export const supervisorInstanceId = (sessionId: string) => `supervisor-${sessionId}`;
