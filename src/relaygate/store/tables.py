"""The schema. Alembic migrations under ``migrations/`` create exactly these tables.

Money is stored exactly: prices as decimal text, costs as integer nano-USD (1e-9),
so sums stay exact on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("workspace_id", String(36), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("requests_per_minute", Integer, nullable=True),
    Column("tokens_per_minute", Integer, nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),  # 0011: NULL never expires
    Column("allowed_models", JSON(none_as_null=True), nullable=True),  # 0011: router ids; NULL all
    Index("ix_api_keys_workspace", "workspace_id"),
)

models = Table(
    "models",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("workspace_id", String(36), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("router_id", String(260), nullable=False),
    Column("provider", String(128), nullable=False),
    Column("model_id", String(128), nullable=False),
    Column("model_type", String(32), nullable=False),
    Column("display_name", String(128), nullable=False),
    Column("description", Text, nullable=True),
    Column("region", String(128), nullable=False),
    Column("base_url", String(2048), nullable=False),
    Column("api_key_ciphertext", LargeBinary, nullable=False),
    Column("api_key_key_id", String(32), nullable=False),
    Column("api_key_hint", String(32), nullable=False),
    Column("max_tokens", Integer, nullable=True),
    Column("temperature", Float, nullable=True),
    Column("input_cost", String(40), nullable=True),
    Column("output_cost", String(40), nullable=True),
    Column("cost_per_image", String(40), nullable=True),
    Column("cache_read_cost", String(40), nullable=True),
    Column("cache_write_cost", String(40), nullable=True),
    Column("capabilities", JSON, nullable=False),
    Column("configuration", JSON, nullable=False),
    Column("validation", JSON, nullable=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("workspace_id", "router_id", name="uq_models_workspace_router_id"),
)

# One row whose version every control-plane write bumps; each process polls it to know
# when to reload its in-memory catalog (keys created by the CLI, writes on other nodes).
catalog_state = Table(
    "catalog_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# Keyed by workspace, time and id: every read is one workspace over a time range, and on
# SQLite the rows live in that key's B-tree (migration 0004: why).
usage_events = Table(
    "usage_events",
    metadata,
    Column("id", String(36), nullable=False),
    Column("workspace_id", String(36), nullable=False),
    Column("api_key_id", String(36), nullable=True),
    Column("router_model", String(260), nullable=True),
    Column("upstream_model", String(128), nullable=True),
    Column("endpoint", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("stream", Boolean, nullable=False),
    Column("prompt_tokens", Integer, nullable=False, default=0),
    Column("completion_tokens", Integer, nullable=False, default=0),
    Column("total_tokens", Integer, nullable=False, default=0),
    Column("cost_nano", BigInteger, nullable=False, default=0),
    Column("latency_ms", Float, nullable=False),
    Column("ttfb_ms", Float, nullable=True),
    Column("overhead_ms", Float, nullable=True),
    Column("attempts", Integer, nullable=False, default=1),
    Column("error_code", String(64), nullable=True),
    Column("request_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("cached_tokens", Integer, nullable=False, default=0, server_default="0"),
    Column("reasoning_tokens", Integer, nullable=False, default=0, server_default="0"),
    Column("images", Integer, nullable=False, default=0, server_default="0"),
    Column("audio_seconds", Float, nullable=True),
    Column("audio_characters", Integer, nullable=True),
    Column("estimated", Boolean, nullable=False, default=False, server_default=false()),
    # The prices the cost was computed with (decimal text, USD per 1M tokens / per image).
    Column("input_price", String(40), nullable=True),
    Column("output_price", String(40), nullable=True),
    Column("image_price", String(40), nullable=True),
    Column("fallback_used", Boolean, nullable=False, default=False, server_default=false()),
    Column("cache_hit", Boolean, nullable=False, default=False, server_default=false()),
    Column("identity_id", String(128), nullable=True),
    Column("thread_id", String(128), nullable=True),
    Column("thread_tags", JSON(none_as_null=True), nullable=True),
    Column("name", String(128), nullable=True),
    Column("request_metadata", JSON(none_as_null=True), nullable=True),
    # Only with RELAYGATE_LOG_BODIES=1: the request and the answer, cut at RELAYGATE_LOG_BODY_BYTES.
    Column("request_body", Text, nullable=True),
    Column("response_body", Text, nullable=True),
    # A call made through a deployment (``/v2/deployments/invoke`` or ``deployment/<key>``).
    Column("deployment_key", String(128), nullable=True),
    Column("deployment_version", Integer, nullable=True),
    Column("variant", String(128), nullable=True),
    # The caller's RAG chunks sent with a deployment call (``documents``), kept with the call.
    Column("documents", JSON(none_as_null=True), nullable=True),
    # Web searches relaygate ran for the call (``/responses`` web_search, ``web_search_options``).
    Column("searches", Integer, nullable=False, default=0, server_default="0"),
    Column("search_cost_nano", BigInteger, nullable=False, default=0, server_default="0"),
    Column("search_ms", Float, nullable=True),  # wall time of those searches (migration 0006)
    # The call's routing story when it had more than one way to go (migration 0009):
    # [[router_model, upstream_model, status, error_code, ms, kind], ...], kind first|retry|fallback|skipped.
    Column("attempt_log", JSON(none_as_null=True), nullable=True),
    Column("requested_model", String(260), nullable=True),  # set only when another model answered
    Column("error_message", String(512), nullable=True),  # what relaygate's error answer said
    PrimaryKeyConstraint("workspace_id", "created_at", "id"),
    Index("ix_usage_events_request", "workspace_id", "request_id"),
    sqlite_with_rowid=False,
)

# A workspace's own body logging choice (no row: the server's RELAYGATE_LOG_BODIES) and how
# long stored bodies are kept; the catalog holds it for the data plane (migration 0009).
workspace_logging = Table(
    "workspace_logging",
    metadata,
    Column("workspace_id", String(36), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("log_bodies", Boolean, nullable=False),
    Column("retention_days", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# End users of the operator's product, as named by requests (`identity` in the body).
identities = Table(
    "identities",
    metadata,
    Column("workspace_id", String(36), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(128), primary_key=True),
    Column("display_name", String(256), nullable=True),
    Column("email", String(320), nullable=True),
    Column("metadata", JSON(none_as_null=True), nullable=True),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
)

# Limits of one scope (the workspace, one api key or one identity): a spend budget over a
# period and/or requests and tokens per minute. Amounts are integer nano-USD.
budgets = Table(
    "budgets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("workspace_id", String(36), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("subject_id", String(128), nullable=True),
    Column("amount_nano", BigInteger, nullable=True),
    Column("period", String(8), nullable=True),
    Column("requests_per_minute", Integer, nullable=True),
    Column("tokens_per_minute", Integer, nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_budgets_workspace", "workspace_id"),
)

# Deployments: a key a workspace's applications call instead of a raw model. The row holds
# what stays (key, current version); every change adds a row to deployment_versions, never
# rewriting one, so history and rollback read the same table.
deployments = Table(
    "deployments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("workspace_id", String(36), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(128), nullable=False),
    Column("version", Integer, nullable=False),  # the current version's number
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("workspace_id", "key", name="uq_deployments_workspace_key"),
)

deployment_versions = Table(
    "deployment_versions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("deployment_id", String(36), ForeignKey("deployments.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    # Everything the version serves: display name, description, model, messages, parameters,
    # variants, fallbacks, retry, timeout, cache (deployments/config.py reads it).
    Column("content", JSON, nullable=False),
    Column("note", String(256), nullable=True),  # e.g. "rollback to version 2"
    Column("created_by", String(36), nullable=True),  # the api key that made the change
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("deployment_id", "version", name="uq_deployment_versions_deployment_version"),
)

# A workspace's web search backend (at most one): what relaygate searches with when a call
# asks for web search on a model that does not search itself. The key is sealed like a
# model's upstream key (AES-GCM under the master key, bound to the row id).
search_backends = Table(
    "search_backends",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("workspace_id", String(36), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # searxng | brave | tavily
    Column("base_url", String(2048), nullable=False),
    Column("api_key_ciphertext", LargeBinary, nullable=True),  # None: no key (a SearXNG may need none)
    Column("api_key_key_id", String(32), nullable=True),
    Column("api_key_hint", String(32), nullable=True),
    Column("max_searches", Integer, nullable=False),
    Column("timeout_s", Float, nullable=False),
    Column("cache_ttl_s", Integer, nullable=False),
    Column("price_per_1000", String(40), nullable=True),  # USD per 1000 searches, decimal text
    Column("prefer_relaygate", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("workspace_id", name="uq_search_backends_workspace_id"),
)

# Datasets: test sets a workspace evaluates models and deployments on. Ids are ULIDs, so
# ordering by id is ordering by creation (the SDKs page by id).
datasets = Table(
    "datasets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("workspace_id", String(36), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("display_name", String(256), nullable=False),
    Column("path", String(512), nullable=True),  # the hosted product's project path, as the SDK sent it
    Column("created_by", String(36), nullable=False),  # the api key that made it
    Column("updated_by", String(36), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_datasets_workspace_id", "workspace_id", "id"),
)

dataset_datapoints = Table(
    "dataset_datapoints",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("dataset_id", String(36), ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("workspace_id", String(36), nullable=False),
    Column("inputs", JSON(none_as_null=True), nullable=True),
    Column("messages", JSON(none_as_null=True), nullable=True),
    Column("expected_output", Text, nullable=True),
    Column("created_by", String(36), nullable=False),
    Column("updated_by", String(36), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_dataset_datapoints_dataset_id", "dataset_id", "id"),
)

# Evaluators: like deployments, the row holds what stays (key, current version) and every
# change adds an evaluator_versions row (evaluators/config.py: what its content holds).
evaluators = Table(
    "evaluators",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("workspace_id", String(36), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(128), nullable=False),
    Column("version", Integer, nullable=False),  # the current version's number
    Column("created_by", String(36), nullable=False),
    Column("updated_by", String(36), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("workspace_id", "key", name="uq_evaluators_workspace_key"),
)

evaluator_versions = Table(
    "evaluator_versions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("evaluator_id", String(36), ForeignKey("evaluators.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("content", JSON, nullable=False),  # {"kind", "description", "output_type", "config"}
    Column("note", String(256), nullable=True),  # the update's versionDescription
    Column("created_by", String(36), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("evaluator_id", "version", name="uq_evaluator_versions_evaluator_version"),
)

# Experiments: a dataset run against several targets (models, deployments), every answer
# scored. The row holds the definition, the run's status and counters (kept in step with
# the items in the same transaction) and the lease of the one process running it.
experiments = Table(
    "experiments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("workspace_id", String(36), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(256), nullable=False),
    Column("dataset_id", String(36), nullable=False),  # no foreign key: results outlive the dataset
    Column("targets", JSON, nullable=False),  # [{"model"} | {"deployment", "version"}]
    Column("evaluators", JSON, nullable=False),  # [{"id", "key", "version"}]: pinned at creation
    Column("parameters", JSON(none_as_null=True), nullable=True),
    Column("concurrency", Integer, nullable=False),  # per target
    Column("budget_nano", BigInteger, nullable=True),
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=True),  # why the run failed
    Column("total", Integer, nullable=False, default=0),
    Column("done", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    Column("spend_nano", BigInteger, nullable=False, default=0),
    Column("seq", BigInteger, nullable=False, default=0),  # items finished: the progress events' ids
    Column("owner", String(80), nullable=True),  # the process running it, while its lease lasts
    Column("lease_expires_at", DateTime(timezone=True), nullable=True),
    Column("created_by", String(36), nullable=False),
    Column("run_by", String(36), nullable=True),  # the admin key whose calls the run makes
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Index("ix_experiments_workspace_id", "workspace_id", "id"),
    Index("ix_experiments_status", "status"),
)

# One row per datapoint x target, made when the run starts; claimed by the running process
# before its answer is generated, finished with the answer and its scores.
experiment_items = Table(
    "experiment_items",
    metadata,
    Column("experiment_id", String(36), ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
    Column("datapoint_id", String(36), nullable=False),
    Column("target", Integer, nullable=False),  # the index in the experiment's targets
    Column("status", String(16), nullable=False),  # pending | claimed | done | failed
    Column("owner", String(80), nullable=True),
    Column("claim", String(32), nullable=True),
    Column("lease_expires_at", DateTime(timezone=True), nullable=True),
    Column("seq", BigInteger, nullable=True),  # the order it finished in (1, 2, ...)
    Column("output", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("latency_ms", Float, nullable=True),
    Column("ttft_ms", Float, nullable=True),
    Column("prompt_tokens", Integer, nullable=True),
    Column("completion_tokens", Integer, nullable=True),
    Column("total_tokens", Integer, nullable=True),
    Column("cost_nano", BigInteger, nullable=False, default=0),  # the generation
    Column("eval_cost_nano", BigInteger, nullable=False, default=0),  # the evaluators' model calls
    Column("answered_by", String(260), nullable=True),  # the router id of the model that answered
    Column("deployment_version", Integer, nullable=True),
    Column("scores", JSON(none_as_null=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("experiment_id", "datapoint_id", "target"),
    Index("ix_experiment_items_claims", "experiment_id", "target", "status"),
    Index("ix_experiment_items_seq", "experiment_id", "seq"),
)

# Model health (migration 0010): each process's tally of a model's calls per minute
# (control/health_tally.py), summed over every process for a window.
model_health_minutes = Table(
    "model_health_minutes",
    metadata,
    Column("owner", String(80), nullable=False),  # the process that counted them
    Column("workspace_id", String(36), nullable=False),
    Column("router_model", String(260), nullable=False),
    Column("minute", DateTime(timezone=True), nullable=False),
    Column("calls", Integer, nullable=False),
    Column("errors", Integer, nullable=False),  # upstream failures: 5xx other than 501
    Column("latency", JSON, nullable=False),  # counts per bucket of health_tally.LATENCY_BOUNDS
    Column("last_success_at", DateTime(timezone=True), nullable=True),
    Column("last_error_at", DateTime(timezone=True), nullable=True),
    Column("last_error_status", Integer, nullable=True),
    Column("last_error_code", String(64), nullable=True),
    PrimaryKeyConstraint("owner", "workspace_id", "router_model", "minute"),
    Index("ix_model_health_minutes_workspace_id", "workspace_id", "minute"),
)

# A model's periodic health check: the setting, and the lease of the one process running
# its next check (taken with a conditional UPDATE, as experiments' leases are).
model_health_settings = Table(
    "model_health_settings",
    metadata,
    Column("model_id", String(36), ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", String(36), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("interval_seconds", Integer, nullable=False),
    Column("next_run_at", DateTime(timezone=True), nullable=False),
    Column("last_run_at", DateTime(timezone=True), nullable=True),
    Column("owner", String(80), nullable=True),
    Column("lease_expires_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_model_health_settings_due", "enabled", "next_run_at"),
)

# The last results of a model's health checks (the oldest trimmed on insert).
model_health_checks = Table(
    "model_health_checks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("model_id", String(36), ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("workspace_id", String(36), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("status", Integer, nullable=True),  # the upstream's HTTP status, when it answered
    Column("latency_ms", Float, nullable=True),
    Column("message", Text, nullable=False),
    Index("ix_model_health_checks_model_id", "model_id", "created_at"),
    Index("ix_model_health_checks_workspace_id", "workspace_id", "model_id"),
)

# Alerts (migration 0012): a workspace's rules, the episodes firing now (one row per rule
# and subject, deleted when it resolves), every event with its webhook delivery (attempts
# logged in ``deliveries``), and the lease of the one process that evaluates them.
alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("workspace_id", String(36), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("config", JSON, nullable=False),
    Column("webhook_url", String(2048), nullable=False),
    Column("secret_ciphertext", LargeBinary, nullable=False),  # the signing secret, sealed
    Column("secret_key_id", String(32), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_by", String(36), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_alert_rules_workspace", "workspace_id"),
)

alert_states = Table(
    "alert_states",
    metadata,
    Column("rule_id", String(36), ForeignKey("alert_rules.id", ondelete="CASCADE"), nullable=False),
    Column("subject", String(260), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
    Column("value", Float, nullable=True),
    PrimaryKeyConstraint("rule_id", "subject"),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("id", String(36), primary_key=True),  # a ULID: sorts by time
    Column("workspace_id", String(36), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("rule_id", String(36), nullable=False),  # no foreign key: events outlive their rule
    Column("rule_name", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("state", String(16), nullable=False),  # firing | resolved
    Column("test", Boolean, nullable=False, default=False),
    Column("subject", String(260), nullable=False),
    Column("value", Float, nullable=True),
    Column("threshold", Float, nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("body", Text, nullable=False),  # the JSON sent, the same bytes on every attempt
    Column("delivery", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("deliveries", JSON, nullable=False),  # [{at, status, error, ms}] one per attempt
    Index("ix_alert_events_workspace", "workspace_id", "id"),
    Index("ix_alert_events_due", "delivery", "next_attempt_at"),
)

alert_lease = Table(
    "alert_lease",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("owner", String(80), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),
)

# The admin audit log (migration 0013): who changed what through /v2, with the resource
# as its API showed it before and after (secrets removed).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", String(36), primary_key=True),  # a ULID: sorts by time, the pages' cursor
    Column("workspace_id", String(36), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor_key_id", String(36), nullable=True),
    Column("actor_name", String(128), nullable=True),
    Column("actor_prefix", String(16), nullable=True),
    Column("action", String(32), nullable=False),
    Column("resource_type", String(32), nullable=False),
    Column("resource_id", String(260), nullable=True),
    Column("method", String(8), nullable=False),
    Column("path", String(512), nullable=False),
    Column("status", Integer, nullable=False),
    Column("before", JSON(none_as_null=True), nullable=True),
    Column("after", JSON(none_as_null=True), nullable=True),
    Column("request_id", String(64), nullable=False),
    Column("client_address", String(64), nullable=True),
    Index("ix_audit_log_workspace", "workspace_id", "id"),
    Index("ix_audit_log_resource", "workspace_id", "resource_type", "resource_id"),
)
