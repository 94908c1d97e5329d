"""The labelled corpus of ``bench.resilience``'s redaction section, generated with a fixed seed.

Secrets: for each shape, fresh random values in the vendor's documented format (not the table's own
examples), each set in several kinds of log or config line; the label is the secret text that must vanish.
Ordinary lines: 500 log lines from many hand-written templates (web servers, databases, Kubernetes, JVM,
queues, CI) with random fields; none holds a credential. IP addresses and e-mails do occur: redacting them is
intended (personal data) and reported apart from false positives.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable

Gen = Callable[[random.Random], str]


def _chars(alphabet: str, n: int) -> Gen:
    return lambda r: "".join(r.choice(alphabet) for _ in range(n))


HEX, ALNUM, UPPER = "0123456789abcdef", string.ascii_letters + string.digits, string.ascii_uppercase + string.digits
B64, URLSAFE = ALNUM + "+/", ALNUM + "_-"


def _cat(*parts: str | Gen) -> Gen:
    return lambda r: "".join(p if isinstance(p, str) else p(r) for p in parts)


# (shape label, secret generator, how the secret sits in a line: "{s}" is the secret)
SECRETS: list[tuple[str, Gen, str]] = [
    ("rsa private key", _cat("-----BEGIN RSA PRIVATE KEY-----\n", _chars(B64, 64), "\n-----END RSA PRIVATE KEY-----"), "{s}"),
    ("openssh private key", _cat("-----BEGIN OPENSSH PRIVATE KEY-----\n", _chars(B64, 70), "\n-----END OPENSSH PRIVATE KEY-----"), "{s}"),
    ("ec private key", _cat("-----BEGIN EC PRIVATE KEY-----\n", _chars(B64, 50), "\n-----END EC PRIVATE KEY-----"), "{s}"),
    ("pgp private key", _cat("-----BEGIN PGP PRIVATE KEY BLOCK-----\n", _chars(B64, 60), "\n-----END PGP PRIVATE KEY BLOCK-----"), "{s}"),
    ("age key", _cat("AGE-SECRET-KEY-1", _chars(UPPER, 58)), "{s}"),
    ("jwt", _cat("eyJhbGciOiJSUzI1NiJ9.eyJ", _chars(URLSAFE, 40), ".", _chars(URLSAFE, 43)), "token={s}"),
    ("aws access key id", _cat("AKIA", _chars(UPPER, 16)), "aws_access_key_id {s}"),
    ("aws sts key id", _cat("ASIA", _chars(UPPER, 16)), "{s}"),
    ("aws secret key", _chars(ALNUM + "/+", 40), "AWS_SECRET_ACCESS_KEY={s}"),
    ("aws session token", _chars(ALNUM + "/+", 120), "aws_session_token = {s}"),
    ("google api key", _cat("AIza", _chars(URLSAFE, 35)), "{s}"),
    ("google oauth secret", _cat("GOCSPX-", _chars(URLSAFE, 28)), "{s}"),
    ("google access token", _cat("ya29.", _chars(URLSAFE, 60)), "{s}"),
    ("azure storage key", _chars(B64, 86) , "DefaultEndpointsProtocol=https;AccountName=prod;AccountKey={s}==;EndpointSuffix=core.windows.net"),
    ("azure sas", _chars(ALNUM + "%", 44), "https://prod.blob.core.windows.net/logs/a.gz?sv=2023-01-03&se=2027-01-01&sig={s}"),
    ("azure service bus", _chars(B64, 44), "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={s}"),
    ("azure client secret", _cat(_chars(ALNUM, 3), "8Q~", _chars(ALNUM + "_~.-", 34)), "{s}"),
    ("digitalocean", _cat("dop_v1_", _chars(HEX, 64)), "{s}"),
    ("databricks", _cat("dapi", _chars(HEX, 32)), "{s}"),
    ("vault", _cat("hvs.", _chars(URLSAFE, 90)), "{s}"),
    ("doppler", _cat("dp.st.prd.", _chars(ALNUM, 43)), "{s}"),
    ("github classic", _cat("ghp_", _chars(ALNUM, 36)), "{s}"),
    ("github oauth", _cat("gho_", _chars(ALNUM, 36)), "{s}"),
    ("github app", _cat("ghs_", _chars(ALNUM, 36)), "{s}"),
    ("github fine-grained", _cat("github_pat_", _chars(ALNUM, 22), "_", _chars(ALNUM, 59)), "{s}"),
    ("gitlab pat", _cat("glpat-", _chars(URLSAFE, 20)), "{s}"),
    ("gitlab runner", _cat("glrt-", _chars(URLSAFE, 20)), "{s}"),
    ("npm", _cat("npm_", _chars(ALNUM, 36)), "//registry.npmjs.org/:_authToken={s}"),
    ("pypi", _cat("pypi-AgEIcHlwaS5vcmc", _chars(URLSAFE, 70)), "{s}"),
    ("docker hub", _cat("dckr_pat_", _chars(URLSAFE, 27)), "{s}"),
    ("slack bot token", _cat("xoxb-", _chars("0123456789", 12), "-", _chars(ALNUM, 24)), "{s}"),
    ("slack user token", _cat("xoxp-", _chars("0123456789", 12), "-", _chars(ALNUM, 32)), "{s}"),
    ("slack app token", _cat("xapp-1-A", _chars(UPPER, 10), "-", _chars("0123456789", 13), "-", _chars(HEX, 64)), "{s}"),
    ("slack webhook", _cat("https://hooks.slack.com/services/T", _chars(UPPER, 8), "/B", _chars(UPPER, 8), "/", _chars(ALNUM, 24)), "{s}"),
    ("discord webhook", _cat("https://discord.com/api/webhooks/", _chars("0123456789", 18), "/", _chars(URLSAFE, 68)), "{s}"),
    ("telegram bot", _cat(_chars("123456789", 10), ":AA", _chars(URLSAFE, 33)), "{s}"),
    ("teams webhook", _cat("https://contoso.webhook.office.com/webhookb2/", _chars(HEX, 8), "-1111@", _chars(HEX, 8), "/IncomingWebhook/", _chars(HEX, 32)), "{s}"),
    ("stripe secret", _cat("sk_live_", _chars(ALNUM, 24)), "{s}"),
    ("stripe restricted", _cat("rk_live_", _chars(ALNUM, 24)), "{s}"),
    ("stripe webhook", _cat("whsec_", _chars(ALNUM, 32)), "{s}"),
    ("twilio api key", _cat("SK", _chars(HEX, 32)), "{s}"),
    ("twilio account sid", _cat("AC", _chars(HEX, 32)), "{s}"),
    ("sendgrid", _cat("SG.", _chars(URLSAFE, 22), ".", _chars(URLSAFE, 43)), "{s}"),
    ("mailgun", _cat("key-", _chars(HEX, 32)), "{s}"),
    ("mailchimp", _cat(_chars(HEX, 32), "-us14"), "{s}"),
    ("shopify", _cat("shpat_", _chars(HEX, 32)), "{s}"),
    ("square", _cat("sq0atp-", _chars(URLSAFE, 22)), "{s}"),
    ("openai", _cat("sk-proj-", _chars(URLSAFE, 48)), "{s}"),
    ("anthropic", _cat("sk-ant-api03-", _chars(URLSAFE, 93)), "{s}"),
    ("huggingface", _cat("hf_", _chars(string.ascii_letters, 34)), "{s}"),
    ("datadog", _chars(HEX, 32), "DD_API_KEY={s}"),
    ("new relic", _cat("NRAK-", _chars(UPPER, 27)), "{s}"),
    ("grafana", _cat("glsa_", _chars(ALNUM, 32), "_", _chars(HEX, 8)), "{s}"),
    ("atlassian", _cat("ATATT3xFfGF0", _chars(URLSAFE, 180)), "{s}"),
    ("linear", _cat("lin_api_", _chars(ALNUM, 40)), "{s}"),
    ("postman", _cat("PMAK-", _chars(HEX, 24), "-", _chars(HEX, 34)), "{s}"),
    ("pulumi", _cat("pul-", _chars(HEX, 40)), "{s}"),
    ("terraform cloud", _cat(_chars(ALNUM, 14), ".atlasv1.", _chars(URLSAFE, 67)), "{s}"),
    ("sentry token", _cat("sntrys_", _chars(ALNUM, 80)), "{s}"),
    ("planetscale", _cat("pscale_tkn_", _chars(URLSAFE, 43)), "{s}"),
    ("rubygems", _cat("rubygems_", _chars(HEX, 48)), "{s}"),
    ("fly.io", _cat("fo1_", _chars(URLSAFE, 43)), "{s}"),
    ("heroku", _cat("HRKU-", _chars(URLSAFE, 60)), "{s}"),
    ("mssql connection", _chars(ALNUM + "!#", 14), "Server=tcp:db,1433;Database=app;User ID=svc;Password={s};Encrypt=true"),
    ("postgres url", _cat(_chars(ALNUM, 6), "@", _chars(ALNUM + "!", 8)), "postgres://app:{s}@db.prod:5432/app"),
    ("redis url", _chars(ALNUM, 16), "redis://:{s}@cache:6379/0"),
    ("mongodb url", _chars(ALNUM, 18), "mongodb+srv://svc:{s}@cluster0.abcde.mongodb.net/app"),
    ("amqp url", _chars(ALNUM, 12), "amqp://worker:{s}@mq:5672/"),
    ("sentry dsn", _chars(HEX, 32), "https://{s}@o450.ingest.sentry.io/5512"),
    ("basic auth", _chars(B64, 28), "Authorization: Basic {s}"),
    ("bearer", _chars(URLSAFE + ".", 40), "Authorization: Bearer {s}"),
    ("okta ssws", _cat("00", _chars(URLSAFE, 40)), "Authorization: SSWS {s}"),
    ("access_token param", _chars(URLSAFE, 30), "GET /oauth/callback?state=xyz&access_token={s}&expires_in=3600"),
    ("client_secret param", _chars(URLSAFE, 30), "POST /token grant_type=client_credentials&client_secret={s}"),
    ("password env", _chars(ALNUM + "!@#", 12), "DB_PASSWORD={s}"),
    ("pgpassword", _chars(ALNUM, 12), "PGPASSWORD={s} psql -h db"),
    ("mysql pwd", _chars(ALNUM, 12), "MYSQL_PWD={s}"),
    ("yaml password", _chars(ALNUM + "-", 10), 'password: "{s}"'),
    ("json secret", _chars(ALNUM, 20), '{{"client_secret": "{s}", "client_id": "app"}}'),
    ("json api key", _chars(ALNUM, 24), '{{"apiKey": "{s}"}}'),
    ("cli password flag", _chars(ALNUM, 10), "mysqldump --password={s} app"),
    ("docker auth", _chars(B64, 32), '{{"auths":{{"ghcr.io":{{"auth":"{s}"}}}}}}'),
    ("x-api-key header", _chars(ALNUM, 32), "X-API-Key: {s}"),
    ("generic token assignment", _chars(ALNUM, 32), "SERVICE_TOKEN={s}"),
    # the families of detect-secrets' rule set the lines above did not reach (tests/reasoning/test_redact_detect_secrets.py)
    ("aws key id (A3T)", _cat("A3T", _chars(UPPER, 17)), "{s}"),
    ("aws secret, camelCase name", _chars(ALNUM + "/+", 40), 'awsSecretKey: "{s}"'),
    ("artifactory api key", _cat("AKCp", _chars(ALNUM, 69)), "X-JFrog-Art-Api: {s}"),
    ("artifactory password", _cat("AP", _chars("0123456789ABCDEF", 1), _chars(ALNUM, 56)),
     "curl -u deployer:{s} https://acme.jfrog.io/artifactory/api/npm/npm-local/"),
    ("cloudant url", _chars(HEX, 64), "https://acme-prod:{s}@acme-prod.cloudant.com/orders"),
    ("cloudant api key", _chars(string.ascii_lowercase, 24), "CLOUDANT_KEY={s}"),
    ("ibm cloud iam key", _chars(URLSAFE, 44), "IBM_CLOUD_IAM_KEY={s}"),
    ("ibm cos hmac secret", _chars(HEX, 48), "COS_HMAC_SECRET_ACCESS_KEY={s}"),
    ("softlayer key", _chars(string.ascii_lowercase + string.digits, 64), "softlayer_key: {s}"),
    ("softlayer soap url", _chars(string.ascii_lowercase + string.digits, 64), "POST https://api.softlayer.com/soap/v3/{s}"),
    ("discord bot token", _cat(_chars("MNO", 1), _chars(URLSAFE, 23), ".", _chars(URLSAFE, 6), ".", _chars(URLSAFE, 27)),
     "Authorization: Bot {s}"),
    ("openai legacy key", _cat("sk-", _chars(ALNUM, 20), "T3BlbkFJ", _chars(ALNUM, 20)), "{s}"),
    ("square oauth secret", _cat("sq0csp-", _chars(URLSAFE, 43)), "{s}"),
    ("jwt with claims", lambda r: _jwt(r, signed=True), "Authorization: JWT {s}"),
    ("unsigned jwt", lambda r: _jwt(r, signed=False), "id_token {s}"),
    ("npm legacy token", _cat(_chars(HEX, 8), "-", _chars(HEX, 4), "-", _chars(HEX, 4), "-", _chars(HEX, 4), "-",
                              _chars(HEX, 12)), "//registry.npmjs.org/:_authToken={s}"),
    ("telegram bot, any secret", _cat(_chars("123456789", 9), ":", _chars(string.ascii_letters[2:], 1), _chars(URLSAFE, 34)),
     "{s}"),
    ("ssh2 private key", _cat("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n", _chars(B64, 64),
                              "\n---- END SSH2 ENCRYPTED PRIVATE KEY ----"), "{s}"),
    ("putty private key", _cat("PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: deploy\nPublic-Lines: 1\n",
                               _chars(B64, 64), "\nPrivate-Lines: 1\n", _chars(B64, 64), "\nPrivate-MAC: ", _chars(HEX, 40)),
     "{s}"),
    ("private key cut short", _cat("-----BEGIN PRIVATE KEY-----\n", _chars(B64, 64), "\n", _chars(B64, 40)), "{s}"),
]


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _jwt(r: random.Random, *, signed: bool) -> str:
    """A token whose header and claims are JSON (detect-secrets decodes them); unsigned: ``alg: none``."""
    header = {"alg": "RS256", "typ": "JWT"} if signed else {"alg": "none"}
    claims = {"sub": _chars(ALNUM, 12)(r), "iat": r.randrange(1_700_000_000, 1_800_000_000)}
    head = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode()) + "."
    return head + (_chars(URLSAFE, 86)(r) if signed else "")

CONTEXTS = [
    "{line}",
    "2026-12-06T10:{mm}:{ss}Z ERROR config loaded: {line}",
    "Dec  6 10:{mm}:{ss} web-{n} app[{pid}]: starting with {line} (from env)",
    'level=warn msg="request failed" detail="{line}" trace_id={hex}',
]

WORDS = ["orders", "payments", "checkout", "inventory", "search", "auth", "catalog", "shipping", "billing", "users"]

ORDINARY = [
    '{ip} - - [06/Dec/2026:10:{mm}:{ss} +0000] "GET /api/{w}/{n} HTTP/1.1" 200 {size} "-" "Mozilla/5.0"',
    '{ip} - - [06/Dec/2026:10:{mm}:{ss} +0000] "POST /api/{w} HTTP/1.1" 503 {size} "-" "curl/8.4.0"',
    "2026-12-06T10:{mm}:{ss}.{ms}Z INFO  {w}-service request completed path=/v1/{w}/{n} status=200 duration_ms={n}",
    "2026-12-06T10:{mm}:{ss}.{ms}Z ERROR {w}-service upstream timeout after {n} ms calling {w2}:8080",
    "2026-12-06 10:{mm}:{ss},{ms} WARN  [HikariPool-1 housekeeper] HikariPool-1 - Thread starvation or clock leap detected",
    "2026-12-06 10:{mm}:{ss},{ms} ERROR [main] o.s.b.SpringApplication - Application run failed: Connection refused: {w2}/{ip}:5432",
    "{ts} [{pid}] LOG:  checkpoint complete: wrote {n} buffers ({pct}%); 0 WAL file(s) added",
    "{ts} [{pid}] ERROR:  duplicate key value violates unique constraint \"{w}_pkey\"",
    "{ts} [{pid}] FATAL:  password authentication failed for user \"{w}\"",
    "{ts} [{pid}] FATAL:  remaining connection slots are reserved for non-replication superuser connections",
    "Warning  BackOff  pod/{w}-{hex5}-{hex4}  Back-off restarting failed container {w} in pod {w}-{hex5}",
    "Normal   Pulled   pod/{w}-{hex5}  Container image \"registry.example.com/{w}:1.{n}.0\" already present on machine",
    "Warning  FailedScheduling  pod/{w}-{hex5}  0/{n} nodes are available: insufficient memory",
    "  Last State:  Terminated  Reason: OOMKilled  Exit Code: 137  Started: Sun, 06 Dec 2026 10:{mm}:{ss} +0000",
    "kernel: [{n}.{ms}] Out of memory: Killed process {pid} (java) total-vm:{size}kB, anon-rss:{size}kB",
    "java.lang.IllegalStateException: token expired for session {hex} while refreshing {w}",
    "\tat com.example.{w}.Service.handle(Service.java:{n})",
    "Caused by: java.net.SocketTimeoutException: Read timed out after {n}ms",
    "redis: {ts} # Background saving started by pid {pid}",
    "kafka: [Consumer clientId={w}-{n}, groupId={w}] Member {w}-{hex} sending LeaveGroup request to coordinator",
    "rabbitmq: closing AMQP connection <0.{n}.0> ({ip}:{pid} -> {ip}:5672, vhost: '/', user: '{w}')",
    "nginx: upstream prematurely closed connection while reading response header from upstream, client: {ip}",
    "{ts} INFO deploy {w} version=v1.{n}.{pct} by ci-bot (sha {hex})",
    "{ts} INFO feature flag {w}_new_checkout set to {pct}% rollout",
    "{ts} WARN rate limit reached for key api:{w}:{n}; max_tokens={n} refill=10/s",
    "{ts} INFO token bucket refilled: tokens={n} capacity=100",
    "{ts} INFO auth: user {w} logged in from {ip} (mfa=ok)",
    "{ts} INFO password reset email queued for user id {n}",
    "{ts} DEBUG cache key={w}:{n} hit=true ttl={n}s",
    "{ts} INFO GET https://{w}.internal.example.com/health?verbose=1 -> 200",
    "{ts} WARN TLS certificate for {w}.example.com expires in {n} days",
    "{ts} ERROR disk usage on /var/lib/{w} at {pct}% (threshold 90%)",
    "{ts} INFO scaled deployment/{w} from {n} to {pct} replicas",
    "{ts} INFO GC pause (G1 Evacuation Pause) {n}ms, heap {n}M->{pct}M",
    "{ts} INFO order {n} paid amount=49.{pct} currency=EUR status=captured",
    "{ts} ERROR payment provider returned 402 for order {n}: card_declined",
    "{ts} INFO session_id={hex} user_agent=Mozilla/5.0 latency={n}ms",
    "{ts} INFO request_id={hex} span_id={hex5}{hex4} parent={hex5}",
    "{ts} WARN retrying {w} call (attempt {pct}/5) backoff={n}ms",
    "{ts} INFO consumer lag on topic {w}-events partition {pct}: {n} messages",
    "{ts} INFO healthz ok db=ok cache=ok queue=ok",
    "{ts} INFO migrating schema {w} to version 20261206_{n}",
    "{ts} INFO build #{n} of {w} finished in {pct}m{ss}s: SUCCESS",
    "{ts} WARN config key {w}.timeout_ms missing; using default {n}",
    "{ts} INFO contacted support@example.com about incident INC-{n}",
]


def secret_corpus(seed: int = 7) -> list[tuple[str, str, str]]:
    """(shape label, line, secret that must vanish) for every shape in every context."""
    r = random.Random(seed)
    out: list[tuple[str, str, str]] = []
    for label, gen, form in SECRETS:
        for context in CONTEXTS:
            secret = gen(r)
            line = form.replace("{{", "{").replace("}}", "}").replace("{s}", secret)
            frame = context.format(line="\x00", **_fields(r))
            out.append((label, frame.replace("\x00", line), secret))
    return out


def _fields(r: random.Random) -> dict[str, str]:
    return {"mm": f"{r.randrange(60):02d}", "ss": f"{r.randrange(60):02d}", "ms": f"{r.randrange(1000):03d}",
            "n": str(r.randrange(1, 20000)), "pid": str(r.randrange(100, 65000)), "hex": _chars(HEX, 16)(r),
            "hex5": _chars(HEX, 5)(r), "hex4": _chars(HEX, 4)(r), "pct": str(r.randrange(1, 100)),
            "size": str(r.randrange(100, 900000)), "w": r.choice(WORDS), "w2": r.choice(WORDS),
            "ip": f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}",
            "ts": f"2026-12-06T10:{r.randrange(60):02d}:{r.randrange(60):02d}.{r.randrange(1000):03d}Z"}


def ordinary_lines(count: int = 500, seed: int = 11) -> list[str]:
    r = random.Random(seed)
    return [r.choice(ORDINARY).format(**_fields(r)) for _ in range(count)]
