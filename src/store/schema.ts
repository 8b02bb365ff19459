/**
 * Schema migrations, applied in order; PRAGMA user_version holds how many have run.
 * Never edit a released migration: append a new one.
 */
export const MIGRATIONS: string[] = [
  // 1: the first schema
  `
  CREATE TABLE experiments (
    id          TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    meta        TEXT
  ) STRICT;

  CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    experiment  TEXT NOT NULL REFERENCES experiments(id),
    config      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running','done','failed','interrupted')),
    created_at  INTEGER NOT NULL,
    finished_at INTEGER,
    meta        TEXT
  ) STRICT;
  CREATE INDEX runs_by_experiment ON runs(experiment, created_at);
  CREATE INDEX runs_by_created ON runs(created_at);

  CREATE TABLE arms (
    run         TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    predictor   TEXT,
    spent       TEXT,
    status      TEXT NOT NULL CHECK (status IN ('pending','preparing','evaluating','done','failed')),
    error       TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (run, name)
  ) STRICT;

  CREATE TABLE calls (
    id           INTEGER PRIMARY KEY,
    run          TEXT REFERENCES runs(id) ON DELETE CASCADE,
    arm          TEXT,
    example_id   TEXT,
    model_id     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    request      TEXT NOT NULL,
    response     TEXT,
    usage_in     INTEGER NOT NULL,
    usage_out    INTEGER NOT NULL,
    latency_ms   REAL NOT NULL,
    cost_usd     REAL NOT NULL,
    error        TEXT,
    error_kind   TEXT,
    status       INTEGER,
    attempt      INTEGER NOT NULL,
    cached       INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX calls_by_run_arm ON calls(run, arm);
  CREATE INDEX calls_by_hash ON calls(request_hash);

  CREATE TABLE results (
    id          INTEGER PRIMARY KEY,
    run         TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    arm         TEXT NOT NULL,
    example_id  TEXT NOT NULL,
    output      TEXT NOT NULL,
    score       REAL NOT NULL,
    pass        INTEGER NOT NULL CHECK (pass IN (0,1)),
    extracted   TEXT,
    expected    TEXT NOT NULL,
    latency_ms  REAL NOT NULL,
    cost_usd    REAL NOT NULL,
    tokens_in   INTEGER NOT NULL,
    tokens_out  INTEGER NOT NULL,
    cached      INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (run, arm, example_id)
  ) STRICT;

  CREATE TABLE cache (
    hash        TEXT PRIMARY KEY,
    model_id    TEXT NOT NULL,
    response    TEXT NOT NULL,
    created_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    backend     TEXT NOT NULL,
    status      TEXT NOT NULL,
    options     TEXT NOT NULL,
    state       TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX jobs_by_created ON jobs(created_at);

  CREATE TABLE files (
    id          TEXT PRIMARY KEY,
    filename    TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    path        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
  ) STRICT;
  `,
  // 2: one record model. The run key gets its own column (it was meta.runKey); arms speak the runner's
  // statuses (pending|preparing|prepared|done|failed; 'evaluating' was the runner's 'prepared') and
  // keep the predictor's parts in columns, plus `progress` (what an interrupted prepare spent and saved).
  `
  ALTER TABLE runs ADD COLUMN run_key TEXT;
  UPDATE runs SET run_key = json_extract(meta, '$.runKey'), meta = json_remove(meta, '$.runKey') WHERE meta IS NOT NULL AND json_valid(meta);
  CREATE INDEX runs_by_key ON runs(experiment, run_key, created_at);

  CREATE TABLE arms_v2 (
    run         TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending','preparing','prepared','done','failed')),
    model_id    TEXT,
    prompt_hash TEXT,
    artifact    TEXT,
    spent       TEXT,
    training    TEXT,
    notes       TEXT,
    progress    TEXT,
    error       TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (run, name)
  ) STRICT;
  INSERT INTO arms_v2 (run, name, kind, status, model_id, prompt_hash, artifact, spent, training, notes, progress, error, created_at, updated_at)
    SELECT run, name, kind,
      CASE status WHEN 'evaluating' THEN 'prepared' WHEN 'preparing' THEN 'pending' ELSE status END,
      predictor ->> '$.modelId', predictor ->> '$.promptHash', predictor -> '$.artifact', spent,
      predictor -> '$.training', predictor -> '$.notes', NULL, error, created_at, updated_at
    FROM arms;
  DROP TABLE arms;
  ALTER TABLE arms_v2 RENAME TO arms;
  ALTER TABLE results ADD COLUMN cpu_ms REAL;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
