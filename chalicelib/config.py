"""Every setting Flock reads, read once from the environment.

Stages: `dev` (local runs and tests, against moto) and `prod` (AWS). Nothing
else in the code reads `os.environ`; modules ask `settings()`.
"""
import functools
import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MINOR_UNITS_MAX = 10**12
# The outside systems that call Flock (API.md, Networks).
NETWORKS = ("card", "check")
# ISO 4217 minor-unit exponents of the currencies Flock holds (API.md, Money
# in other currencies); FLOCK_CURRENCIES ("USD:2,EUR:2,JPY:0") replaces the list.
CURRENCY_EXPONENTS_DEFAULT = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "CAD": 2, "AUD": 2, "CHF": 2, "MXN": 2,
                              "INR": 2, "TRY": 2, "AED": 2}
HOME_CURRENCY = "USD"  # the currency of the main account, the credit line and the limits


@dataclass(frozen=True)
class TierLimits:
    """Per-tier money limits, in minor units (cents)."""
    deposit_max_cents: int = 2_500_000
    deposits_per_day_max_cents: int = 5_000_000
    sent_per_day_max_cents: int = 1_000_000


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    table_prefix: str
    dynamodb_endpoint: str | None
    aws_endpoint: str | None
    signing_key_secret_id: str
    network_secret_ids: dict
    token_ttl_s: int
    refresh_ttl_s: int
    mfa_token_ttl_s: int
    sessions_max: int
    step_up_cents: int
    kms_key_id: str
    argon2_time_cost: int
    argon2_memory_kib: int
    login_failures_max: int
    login_window_s: int
    login_handle_failures_max: int
    system_account_shards: int
    routing_number: str
    platform_fee_bps: int
    apy_bps: int
    celebrity_followers_min: int
    backfill_posts_max: int
    fanout_queue_url: str | None
    jobs_queue_url: str | None
    job_segments: int
    overdraft_apr_bps: int
    videos_bucket: str = "flock-dev-videos"
    video_max_bytes: int = 500 * 1024 * 1024
    video_url_ttl_s: int = 300
    video_upload_ttl_s: int = 900
    web_origin: str | None = None
    loan_late_fee: int = 1500
    loan_min_amount: int = 10_000
    loan_max_amount: int = 2_500_000
    loan_terms: tuple = tuple(range(3, 37))
    loan_apr_bps_by_grade: tuple = (("A", 599), ("B", 899), ("C", 1299), ("D", 1799), ("E", 2499))
    # Cards (API.md, Cards): Flock's BIN, open cards a person may hold,
    # cashback on posted purchases (basis points, rounded down), reveals a day.
    card_bin: str = "453275"
    cards_open_max: int = 5
    card_cashback_bps: int = 100
    card_reveals_per_day: int = 5
    check_images_bucket: str = "flock-dev-check-images"
    check_image_bytes_max: int = 2 * 1024 * 1024
    check_deposit_max_cents: int = 500_000
    check_deposits_window_max_cents: int = 1_000_000
    check_deposits_window_count_max: int = 10
    check_deposits_window_days: int = 30
    nsf_fee_cents: int = 0
    return_fee_cents: int = 0
    hot_post_likes: int = 1_000
    hot_post_counter_shards: int = 256
    follower_count_shards: int = 32
    credit_shards: int = 16
    credit_shards_hot_per_min: int = 6_000
    credit_shard_target_per_min: int = 15_000
    credit_shards_off_grace_s: int = 600
    timeline_ttl_days: int = 30
    timeline_entries_max: int = 800
    limits: dict = field(default_factory=dict)
    currencies: dict = field(default_factory=lambda: dict(CURRENCY_EXPONENTS_DEFAULT))  # code -> exponent
    fx_spread_bps: int = 50
    fx_fee_bps: int = 30
    fx_quote_ttl_s: int = 30
    fx_rates_cache_s: int = 60
    pocket_apy_bps: dict = field(default_factory=dict)  # currency -> APY of its pockets; absent: 0
    fx_rates_file: str | None = None  # an ECB daily reference-rate file the fx-rates job loads (locally)
    # On AWS the same file as an S3 object (the stack's bucket; infra/template.py): used when the bucket is set.
    fx_rates_bucket: str | None = None
    fx_rates_key: str = "ecb/eurofxref-daily.xml"
    # A file whose day of rates is older than this is stale and refused: the
    # ECB skips weekends and TARGET holidays (Good Friday to Easter Monday is the longest gap, 4 days).
    fx_rates_max_age_days: int = 4

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"

    def table_name(self, logical: str) -> str:
        return f"{self.table_prefix}-{logical}"

    @property
    def videos_origin(self) -> str:
        """The origin presigned URLs of the videos bucket point at (the page's
        CSP names it and nothing else): the local endpoint, where there is
        one, else the bucket's virtual-hosted S3 origin as botocore signs it
        (us-east-1 signs for the global endpoint)."""
        if self.aws_endpoint:
            endpoint = urlsplit(self.aws_endpoint)
            return f"{endpoint.scheme}://{endpoint.netloc}"
        host = "s3" if self.region == "us-east-1" else f"s3.{self.region}"
        return f"https://{self.videos_bucket}.{host}.amazonaws.com"

    def tier_limits(self, tier: str) -> TierLimits:
        return self.limits.get(tier, self.limits["verified"])


class SettingError(ValueError):
    """A setting in the environment that cannot be read; says which."""


def _currency_map(name: str, default: dict) -> dict:
    """"USD:2,EUR:2" -> {"USD": 2, "EUR": 2}."""
    text = os.environ.get(name)
    if text is None:
        return dict(default)
    found = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        code, _, number = part.partition(":")
        if len(code) != 3 or not code.isalpha() or not code.isupper() or not number.isdigit():
            raise SettingError(f"{name} is a list like USD:2,EUR:2, not {text[:40]!r}")
        found[code] = int(number)
    return found


def _int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise SettingError(f"{name} must be an integer, not {text[:40]!r}") from None


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    stage = os.environ.get("FLOCK_STAGE", "dev")
    verified = TierLimits(
        deposit_max_cents=_int("FLOCK_LIMIT_DEPOSIT_MAX_CENTS", 2_500_000),
        deposits_per_day_max_cents=_int("FLOCK_LIMIT_DEPOSITS_PER_DAY_MAX_CENTS", 5_000_000),
        sent_per_day_max_cents=_int("FLOCK_LIMIT_SENT_PER_DAY_MAX_CENTS", 1_000_000),
    )
    return Settings(
        stage=stage,
        region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        table_prefix=os.environ.get("FLOCK_TABLE_PREFIX", f"flock-{stage}"),
        dynamodb_endpoint=os.environ.get("FLOCK_DYNAMODB_ENDPOINT") or None,
        aws_endpoint=os.environ.get("FLOCK_AWS_ENDPOINT") or None,
        signing_key_secret_id=os.environ.get("FLOCK_SIGNING_KEY_SECRET", f"flock/{stage}/token-signing-key"),
        # The secrets the card and check networks sign their calls with (Secrets Manager ids).
        network_secret_ids={
            network: os.environ.get(f"FLOCK_{network.upper()}_NETWORK_SECRET_ID", f"flock/{stage}/{network}-network-secret")
            for network in NETWORKS},
        # Access tokens are short; a session lives on through single-use,
        # rotating refresh tokens (API.md, Security of the person).
        token_ttl_s=_int("FLOCK_TOKEN_TTL_S", 900),
        refresh_ttl_s=_int("FLOCK_REFRESH_TTL_S", 30 * 86400),
        mfa_token_ttl_s=_int("FLOCK_MFA_TOKEN_TTL_S", 300),
        sessions_max=_int("FLOCK_SESSIONS_MAX", 30),
        step_up_cents=_int("FLOCK_STEP_UP_CENTS", 100_000),
        # The KMS key under which data keys are made (envelope encryption of
        # TOTP secrets, card data); an alias or key id.
        kms_key_id=os.environ.get("FLOCK_KMS_KEY_ID", f"alias/flock-{stage}-data"),
        # argon2id; RFC 9106's second recommended setting in prod. Tests may
        # lower the memory cost through the environment, never the algorithm.
        argon2_time_cost=_int("FLOCK_ARGON2_TIME_COST", 3),
        argon2_memory_kib=_int("FLOCK_ARGON2_MEMORY_KIB", 65536),
        login_failures_max=_int("FLOCK_LOGIN_FAILURES_MAX", 5),
        login_window_s=_int("FLOCK_LOGIN_WINDOW_S", 900),
        # Failures for one handle from all addresses together, per window:
        # credential stuffing from many addresses slows down too.
        login_handle_failures_max=_int("FLOCK_LOGIN_HANDLE_FAILURES_MAX", 20),
        system_account_shards=_int("FLOCK_SYSTEM_ACCOUNT_SHARDS", 8),
        # Fictional routing number with a valid ABA checksum.
        routing_number=os.environ.get("FLOCK_ROUTING_NUMBER", "123456780"),
        platform_fee_bps=_int("FLOCK_PLATFORM_FEE_BPS", 1000),
        apy_bps=_int("FLOCK_APY_BPS", 450),
        celebrity_followers_min=_int("FLOCK_CELEBRITY_FOLLOWERS_MIN", 10_000),
        backfill_posts_max=_int("FLOCK_BACKFILL_POSTS_MAX", 50),
        # On AWS the fan-out runs from this SQS queue; unset, it runs inline.
        fanout_queue_url=os.environ.get("FLOCK_FANOUT_QUEUE_URL") or None,
        # On AWS account-scanning jobs fan their scan segments out over this
        # queue; unset, the segments run in-process one after another.
        jobs_queue_url=os.environ.get("FLOCK_JOBS_QUEUE_URL") or None,
        job_segments=_int("FLOCK_JOB_SEGMENTS", 8),
        overdraft_apr_bps=_int("FLOCK_OVERDRAFT_APR_BPS", 1800),
        # Videos (API.md, Videos): a private bucket per stage; uploads go
        # straight to it by presigned POST, playback by short presigned GETs.
        videos_bucket=os.environ.get("FLOCK_VIDEOS_BUCKET", f"flock-{stage}-videos"),
        video_max_bytes=_int("FLOCK_VIDEO_MAX_BYTES", 500 * 1024 * 1024),
        video_url_ttl_s=_int("FLOCK_VIDEO_URL_TTL_S", 300),
        video_upload_ttl_s=_int("FLOCK_VIDEO_UPLOAD_TTL_S", 900),
        # Where the web client is served from: the videos bucket lets that
        # origin (only) POST uploads from the page. Unset, the dev server
        # uses its own URL; on AWS the template's WebOrigin parameter.
        web_origin=os.environ.get("FLOCK_WEB_ORIGIN") or None,
        # Lending (API.md, Loans): the late fee in minor units, and the
        # product until an operator sets one (PUT /v1/admin/loan-products).
        loan_late_fee=_int("FLOCK_LOAN_LATE_FEE", 1500),
        loan_min_amount=_int("FLOCK_LOAN_MIN_AMOUNT", 10_000),
        loan_max_amount=_int("FLOCK_LOAN_MAX_AMOUNT", 2_500_000),
        card_bin=os.environ.get("FLOCK_CARD_BIN", "453275"),
        cards_open_max=_int("FLOCK_CARDS_OPEN_MAX", 5),
        card_cashback_bps=_int("FLOCK_CARD_CASHBACK_BPS", 100),
        card_reveals_per_day=_int("FLOCK_CARD_REVEALS_PER_DAY", 5),
        # Paper checks (API.md, Checks): images of deposited checks in a
        # private bucket of their own, keyed by their SHA-256.
        check_images_bucket=os.environ.get("FLOCK_CHECK_IMAGES_BUCKET", f"flock-{stage}-check-images"),
        check_image_bytes_max=_int("FLOCK_CHECK_IMAGE_BYTES_MAX", 2 * 1024 * 1024),
        # Mobile deposit limits: per check, and per rolling window (amount and
        # count, returned deposits included).
        check_deposit_max_cents=_int("FLOCK_CHECK_DEPOSIT_MAX_CENTS", 500_000),
        check_deposits_window_max_cents=_int("FLOCK_CHECK_DEPOSITS_WINDOW_MAX_CENTS", 1_000_000),
        check_deposits_window_count_max=_int("FLOCK_CHECK_DEPOSITS_WINDOW_COUNT_MAX", 10),
        check_deposits_window_days=_int("FLOCK_CHECK_DEPOSITS_WINDOW_DAYS", 30),
        # Charged to the drawer of a check returned for want of funds, and to
        # the depositor of a returned check (minor units; 0: none).
        nsf_fee_cents=_int("FLOCK_NSF_FEE", 0),
        return_fee_cents=_int("FLOCK_RETURN_FEE", 0),
        # Scale (issue 17). A post with this many likes has its counters
        # widened to `hot_post_counter_shards` shards: 100,000 likes/s at 2
        # write units each need 200 shards of 1,000 WCU/s.
        hot_post_likes=_int("FLOCK_HOT_POST_LIKES", 1_000),
        hot_post_counter_shards=_int("FLOCK_HOT_POST_COUNTER_SHARDS", 256),
        # A celebrity's follower count: 10,000 follows/s at 2 WCU need 20 shards.
        follower_count_shards=_int("FLOCK_FOLLOWER_COUNT_SHARDS", 32),
        # A hot receiving account's credit shards (ledger rule 8), turned on by
        # themselves (docs/architecture.md, "Scale", has the arithmetic): an
        # account receiving `credit_shards_hot_per_min` credits in a minute
        # (100/s) gets enough that each takes at most
        # `credit_shard_target_per_min` (250/s), at most `credit_shards` (5,000 tips/s
        # at 2 WCU need 10 of 1,000 WCU/s; at most 20, one sweep
        # transaction); cooled below a quarter of the threshold they are
        # turned off, and retired `credit_shards_off_grace_s` later, when no
        # payer's count read before can be in use.
        credit_shards=_int("FLOCK_CREDIT_SHARDS", 16),
        credit_shards_hot_per_min=_int("FLOCK_CREDIT_SHARDS_HOT_PER_MIN", 6_000),
        credit_shard_target_per_min=_int("FLOCK_CREDIT_SHARD_TARGET_PER_MIN", 15_000),
        credit_shards_off_grace_s=_int("FLOCK_CREDIT_SHARDS_OFF_GRACE_S", 600),
        timeline_ttl_days=_int("FLOCK_TIMELINE_TTL_DAYS", 30),
        timeline_entries_max=_int("FLOCK_TIMELINE_ENTRIES_MAX", 800),
        limits={"verified": verified},
        currencies=_currency_map("FLOCK_CURRENCIES", CURRENCY_EXPONENTS_DEFAULT),
        # A quote's rate is the mid-market rate less the spread; the fee (in
        # the sell currency) is taken from what is sold (API.md).
        fx_spread_bps=_int("FLOCK_FX_SPREAD_BPS", 50),
        fx_fee_bps=_int("FLOCK_FX_FEE_BPS", 30),
        fx_quote_ttl_s=_int("FLOCK_FX_QUOTE_TTL_S", 30),
        fx_rates_cache_s=_int("FLOCK_FX_RATES_CACHE_S", 60),
        pocket_apy_bps=_currency_map("FLOCK_POCKET_APY_BPS", {}),
        fx_rates_file=os.environ.get("FLOCK_FX_RATES_FILE") or None,
        fx_rates_bucket=os.environ.get("FLOCK_FX_RATES_BUCKET") or None,
        fx_rates_key=os.environ.get("FLOCK_FX_RATES_KEY") or "ecb/eurofxref-daily.xml",
        fx_rates_max_age_days=_int("FLOCK_FX_RATES_MAX_AGE_DAYS", 4),
    )
