import type { TableEntity } from '@azure/data-tables';

/** Table `agents`: current definitions, one row per agent (RowKey the id). */
export const PARTITION = 'agent';
/** Superseded versions (RowKey `<id>@<version, 6 digits>`), kept for the sessions that started on them. */
export const VERSIONS = 'version';
export const versionKey = (id: string, version: number) => `${id}@${String(version).padStart(6, '0')}`;

export interface AgentEntity extends TableEntity {
  /** The whole definition as JSON (validated and policy-checked again on every load). */
  definition: string;
  sipNumbers: string;
  updatedAt: string;
  /** Absent on rows written before agents had versions: those are version 1. */
  version?: number;
  /** Retired by an operator: no new sessions; running ones keep their version. */
  retired?: boolean;
  /** Who made this version (an operator's id, or `seed` for agents/*.json). */
  changedBy?: string;
}
