"""One settings object, read once at an entry point (the CLI, a `vigil serve` worker, a scan worker)
and passed down; nothing below the entry points reads the environment or sets process globals.

Sources, later ones winning: the defaults below; a TOML file named by `VIGIL_CONFIG` (keys as the
field names, at the top level or under `[vigil]`); the `VIGIL_*` environment variables; command-line
options. Every value is checked here, so a bad one is one error naming its source, before any work.

Two settings are process-wide by nature and are applied by `prepare_process` at the entry points:
the BLAS thread count (Vigil's numeric work is many small matrix products — PDQ is 64 × side — and
a multi-threaded BLAS in every worker process made a 2-worker scan 2× slower than 1) and Pillow's
decompression-bomb limit (evidence holds huge scans; beyond the limit is a bomb, not a photo).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from vigil.errors import VigilError

_SIZE_SUFFIXES = (
    ("kib", 1024), ("mib", 1024**2), ("gib", 1024**3), ("k", 1024), ("m", 1024**2), ("g", 1024**3)
)  # fmt: skip
SETTINGS_ENV = "VIGIL_SETTINGS_JSON"  # how `vigil serve` hands its settings to its worker processes


def parse_size(text: str | int, source: str) -> int:
    """`65536`, `64KiB`, `16M` as a number of bytes; an error names `source`."""
    if isinstance(text, int):
        value = text
    else:
        raw = text.strip().lower()
        factor = 1
        for suffix, f in _SIZE_SUFFIXES:
            if raw.endswith(suffix):
                raw, factor = raw[: -len(suffix)].strip(), f
                break
        try:
            value = int(raw) * factor
        except ValueError:
            raise VigilError(
                f"{source}: expected a size in bytes such as 65536, 64KiB or 16MiB, got {text!r}"
            ) from None
    if value <= 0:
        raise VigilError(f"{source}: must be a positive size, got {text!r}")
    return value


@dataclass(frozen=True)
class Settings:
    db: str | None = None  # database path or URL; None: ~/.local/share/vigil/vigil.db
    index_dir: str | None = None  # where a server database's indexes live (SQLite: beside the file)
    public_org: str | None = None  # organisation receiving anonymous public reports
    public_rate: str | None = None  # `N/SECONDS` per address on the public form (default 10/60)
    redis_url: str | None = None  # shared rate-limit counts across workers and servers
    max_body: int = 16 * 1024 * 1024  # request body limit (a 1,000-report batch fits)
    max_public_body: int = 64 * 1024  # request body limit for the public form and anonymous requests
    priority_rules: str | None = None  # TOML file of report priority rules
    classification_extra: str | None = None  # TOML file extending the classification schema
    blas_threads: int = 1
    max_image_pixels: int = 400_000_000
    public_url: str | None = None  # this instance's URL as peers reach it (the URI they sign)
    exchange_interval: float = 5.0  # seconds between outbox deliveries in `vigil serve`; 0: never
    allow_private_hosts: bool = False  # notices may check and reach private addresses (labs, intranets)
    secure_cookies: bool = False  # the UI's cookie always Secure and `__Host-` (set it behind TLS)
    takeitdown_org: str | None = None  # the organisation offering the take-it-down page (default: public_org)
    takeitdown_languages: str = "en"  # the page's languages, comma-separated, the first the default

    ENV = {
        "db": "VIGIL_DB",
        "index_dir": "VIGIL_INDEX_DIR",
        "public_org": "VIGIL_PUBLIC_ORG",
        "public_rate": "VIGIL_PUBLIC_RATE",
        "redis_url": "VIGIL_REDIS_URL",
        "max_body": "VIGIL_MAX_BODY",
        "max_public_body": "VIGIL_MAX_PUBLIC_BODY",
        "priority_rules": "VIGIL_PRIORITY_RULES",
        "classification_extra": "VIGIL_CLASSIFICATION_EXTRA",
        "blas_threads": "VIGIL_BLAS_THREADS",
        "max_image_pixels": "VIGIL_MAX_IMAGE_PIXELS",
        "public_url": "VIGIL_PUBLIC_URL",
        "exchange_interval": "VIGIL_EXCHANGE_INTERVAL",
        "allow_private_hosts": "VIGIL_ALLOW_PRIVATE_HOSTS",
        "secure_cookies": "VIGIL_SECURE_COOKIES",
        "takeitdown_org": "VIGIL_TAKEITDOWN_ORG",
        "takeitdown_languages": "VIGIL_TAKEITDOWN_LANGUAGES",
    }

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then the `VIGIL_CONFIG` file, then `VIGIL_*` variables, then `overrides` (the
        command line; None values are ignored)."""
        environ = os.environ if environ is None else environ
        values: dict = {}
        config = environ.get("VIGIL_CONFIG")
        if config:
            values.update(_read_file(config))
        for name, var in cls.ENV.items():
            if environ.get(var, "") != "":
                values[name] = _coerce(name, environ[var], var)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_options(self, **overrides) -> Settings:
        """A copy with the command line's options (None: not given) on top."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Settings:
        return cls(**json.loads(text))


_FIELDS = {f.name: f for f in fields(Settings)}


def _coerce(name: str, value: object, source: str) -> object:
    kind = _FIELDS[name].type
    if name in ("max_body", "max_public_body"):
        return parse_size(value, source)
    if kind == "int":
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise VigilError(f"{source}: expected a whole number, got {value!r}") from None
        if number <= 0:
            raise VigilError(f"{source}: must be positive, got {number}")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes"):
            return True
        if str(value).lower() in ("0", "false", "no", ""):
            return False
        raise VigilError(f"{source}: expected true or false, got {value!r}")
    if kind == "float":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise VigilError(f"{source}: expected a number of seconds, got {value!r}") from None
        if not 0 <= number <= 86_400:
            raise VigilError(f"{source}: must be 0 to 86400 seconds, got {number}")
        return number
    if not isinstance(value, str):
        raise VigilError(f"{source}: expected text, got {value!r}")
    return value


def _read_file(path: str) -> dict:
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise VigilError(f"VIGIL_CONFIG {path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise VigilError(f"VIGIL_CONFIG {path}: not TOML: {exc}") from None
    data = data.get("vigil", data)
    values = {}
    for key, value in data.items():
        if key not in _FIELDS:
            raise VigilError(f"{path}: unknown setting {key!r}; settings: {', '.join(_FIELDS)}")
        values[key] = _coerce(key, value, f"{path}: {key}")
    return values


_prepared: Settings | None = None


def prepared() -> Settings:
    """The settings this process was prepared with (defaults if none was): what a process pool hands
    to the workers it starts, so they are prepared the same way."""
    return _prepared or Settings()


def prepare_process(settings: Settings, images: bool = False) -> None:
    """The process-wide settings, applied at an entry point and in each worker process it starts.

    The BLAS variables must be set before numpy loads its BLAS; an explicit OPENBLAS_NUM_THREADS (and
    the like) set by the user wins. `images`: also Pillow's limits (only where images are decoded:
    importing Pillow would slow every other command's start)."""
    global _prepared
    _prepared = settings
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(settings.blas_threads))
    if not images:
        return
    from PIL import Image, ImageFile

    Image.MAX_IMAGE_PIXELS = settings.max_image_pixels
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is reported, never silently padded
