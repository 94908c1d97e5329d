"""Which component a log line blames: the peer host it names, never a password or a port.

``peer_of`` reads the places programs put the other side of a failed call, most specific first:
DSNs and URLs (``postgres://user:secret@db-primary:5432/app``, JDBC, Redis, AMQP, ``http(s)://``),
quoted host fields (libpq ``host "db"``, urllib3 ``host='payments'``, MySQL ``server on 'db'``), nginx's
``upstream: "http://10.0.0.12:8080/"``, Go's ``dial tcp 10.0.0.5:6379`` (and the peer after the arrow of ``read udp local->peer``), Node's ``ECONNREFUSED
10.0.0.5:5432``, curl's ``connect to api.example.com port 443``, then any ``host:port``. The result is the
host part only, lower-cased; credentials are dropped before anything is kept.

``looked_up`` is the name a failed name resolution asked for (``getaddrinfo ENOTFOUND payments.internal``,
``lookup payments.internal on 10.96.0.10:53``, ``Could not resolve host: api.stripe.com``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ports of databases and datastores: a refused connection there is the database being down
DATABASE_PORTS: dict[int, str] = {
    5432: "postgresql",
    3306: "mysql",
    27017: "mongodb",
    6379: "redis",
    9042: "cassandra",
    1433: "sqlserver",
    1521: "oracle",
    26257: "cockroachdb",
    5984: "couchdb",
}

_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9_\-.]*[A-Za-z0-9])?"
_HOSTPORT_TAIL = r"(?::(?P<port>\d{1,5}))?"

# (name, regex with a ``host`` group and an optional ``port`` group), most specific first
PEER_PATTERNS: tuple[tuple[str, str], ...] = (
    # scheme://[user[:password]@]host[:port] (DSNs, JDBC, Redis, AMQP, HTTP); the password never reaches a group
    ("url", r"\b(?:jdbc:)?[a-z][a-z0-9+.\-]*://(?:[^\s/@'\"]*@)?\[?(?P<host>" + _HOST + r")\]?" + _HOSTPORT_TAIL),
    ("nginx_upstream", r"\bupstream: \"[a-z]+://(?P<host>" + _HOST + r")" + _HOSTPORT_TAIL),
    ("libpq", r"(?:connection to server at|on host|Connection to) \"?(?P<host>" + _HOST + r")\"?"
              r"(?: \([^)]*\))?,? (?:port (?P<port>\d{1,5})|:(?P<port2>\d{1,5}))"),
    ("libpq_host", r"(?:server running on host|connection to server at) \"(?P<host>" + _HOST + r")\""),
    ("pgjdbc", r"Connection to (?P<host>" + _HOST + r"):(?P<port>\d{1,5}) refused"),
    ("python_pool", r"host='(?P<host>" + _HOST + r")', port=(?P<port>\d{1,5})"),
    ("mysql", r"(?:MySQL server|server) on '(?P<host>" + _HOST + r")(?::(?P<port>\d{1,5}))?'"),
    ("curl", r"(?:connect to|Connection to) (?P<host>" + _HOST + r") port (?P<port>\d{1,5})"),
    ("redis_py", r"connecting to (?P<host>" + _HOST + r"):(?P<port>\d{1,5})"),
    ("kafka", r"Connection to node -?\d+ \((?P<host>" + _HOST + r")/[\d.]+:(?P<port>\d{1,5})\)"),
    # Go's net.OpError prints the local address first and the peer after the arrow: ``read udp 10.0.8.16:49159->
    # 10.0.0.2:53: i/o timeout`` timed out waiting for 10.0.0.2, never for its own socket
    ("go_op", r"\b(?:read|write) (?:tcp|udp)[46]? \S+->(?P<host>" + _HOST + r"|\[[0-9a-fA-F:]+\]):(?P<port>\d{1,5})"),
    ("dial", r"\bdial (?:tcp|udp)[46]? (?P<host>" + _HOST + r"|\[[0-9a-fA-F:]+\]):(?P<port>\d{1,5})"),
    ("errno", r"\b(?:ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ECONNRESET|ENETUNREACH) (?P<host>" + _HOST
              + r"):(?P<port>\d{1,5})"),
    ("call_to", r"\b(?:call|request|connection|query|calling) to (?P<host>" + _HOST + r")(?::(?P<port>\d{1,5}))? failed"),
    ("hostport", r"(?<![\w.:/@-])(?P<host>" + _HOST + r"):(?P<port>\d{2,5})\b(?![:.]\d)"),
)

LOOKUP_PATTERNS: tuple[str, ...] = (
    r"\blookup (?P<host>" + _HOST + r")(?: on [\w.:\[\]]+)?: ",
    r"\bgetaddrinfo (?:ENOTFOUND|EAI_AGAIN|EAI_NONAME) (?P<host>" + _HOST + r")",
    r"[Cc]ould not resolve host:? '?(?P<host>" + _HOST + r")",
    # Java's message may carry the resolver's own words before the name (``UnknownHostException: failed to resolve
    # host [web-2.web]``, Netty's ``failed to resolve 'x'``): the name is what follows them, never the words
    r"UnknownHostException: (?:[Ff]ailed to resolve (?:host(?:name)? )?)?[\['\"]?(?P<host>" + _HOST + r")",
    r"could not translate host name \"(?P<host>" + _HOST + r")\"",
    r"Unknown MySQL server host '(?P<host>" + _HOST + r")'",
    r"host not found in upstream \"(?P<host>" + _HOST + r")",
    r"(?P<host>" + _HOST + r") could not be resolved",
    r"[Nn]o address associated with hostname:? '?(?P<host>" + _HOST + r")",
    r"[Ff]ailed to resolve (?:host(?:name)? )?[\['\"]?(?P<host>" + _HOST + r")",
    r"(?:resolve|resolving) (?:host(?:name)? )?'?(?P<host>" + _HOST + r")'?:",
    r"(?P<host>" + _HOST + r"): (?:Name or service not known|nodename nor servname provided|"
    r"Temporary failure in name resolution|No address associated)",
)

_PEERS = tuple((name, re.compile(p)) for name, p in PEER_PATTERNS)
_LOOKUPS = tuple(re.compile(p) for p in LOOKUP_PATTERNS)
_NOT_HOSTS = frozenset({"localhost.localdomain", "http", "https", "tcp", "udp", "port", "line", "at", "in",
                        "error", "caused", "time", "timestamp", "ts", "level", "msg", "message", "warning",
                        "info", "debug", "fatal", "panic", "goroutine", "thread", "main", "file", "context",
                        "value", "key", "status", "code", "duration", "elapsed", "after", "before", "took"})
# a link to documentation is not the peer: "For more details see: http://wiki.apache.org/hadoop/NoRouteToHost"
_DOC_BEFORE = re.compile(r"(?:\bsee|visit|refer to|documentation|more details|more information|help)\W{0,12}$",
                         re.IGNORECASE)
# the caller's own address in a server's log (``failed TLS handshake: from=10.2.7.14:51234``, nginx's
# ``client: 203.0.113.9``), also as a JSON key (MongoDB's ``"remote":"10.77.1.18:51422"``): the side that connected,
# never the component that failed to answer
_CALLER_BEFORE = re.compile(r"(?:\bfrom|\bclient(?:_addr|_ip)?|\bremote(?:_addr|_ip)?|\bsrc(?:_ip)?)\"?\s*(?:=|:)\s*\"?$",
                            re.IGNORECASE)
_DOC_HOST = re.compile(r"^(?:wiki|docs?|help|kb|support)\.|(?:^|\.)(?:stackoverflow\.com|readthedocs\.io)$")
# "RestTemplate.java:785", "main.go:42", "handler.py:88": a source file and line, not a host and port
_SOURCE_FILE = re.compile(r"\.(?:java|kt|scala|groovy|go|py|pyx|rb|rs|js|mjs|cjs|ts|tsx|jsx|c|cc|cpp|cxx|h|hpp|cs|php|"
                          r"swift|m|ex|exs|erl|clj|lua|pl|sh)$")
_TIMEISH = re.compile(r"^\d{1,2}$|^\d{4}-\d{2}-\d{2}")
_VERSIONISH = re.compile(r"^\d+(?:\.\d+){0,2}$")  # 1.2 / 10.3.1: a version or a clock, not a host


@dataclass(frozen=True, slots=True)
class Peer:
    host: str
    port: int | None = None
    how: str = ""

    @property
    def database(self) -> str | None:
        """The database that usually listens on this peer's port, or None."""
        return DATABASE_PORTS.get(self.port) if self.port is not None else None


def _clean_host(host: str) -> str | None:
    host = host.strip("[]").rstrip(".").lower()
    if not host or host in _NOT_HOSTS or _TIMEISH.match(host) or _VERSIONISH.match(host) or _SOURCE_FILE.search(host):
        return None
    if host.replace(".", "").isdigit() and host.count(".") != 3:
        return None
    return host


def _port(match: re.Match[str]) -> int | None:
    groups = match.groupdict()
    for key in ("port", "port2"):
        value = groups.get(key)
        if value:
            number = int(value)
            return number if 0 < number < 65536 else None
    return None


def peer_of(line: str) -> Peer | None:
    """The host (and port) the line says a call went to, or None."""
    for name, regex in _PEERS:
        for match in regex.finditer(line):
            host = _clean_host(match.group("host"))
            before = line[max(0, match.start() - 40):match.start()]
            if host is None or _DOC_HOST.search(host) or _DOC_BEFORE.search(before) or _CALLER_BEFORE.search(before):
                continue
            return Peer(host=host, port=_port(match), how=name)
    return None


# the words of a resolver's message, never the name it looked up (``failed to resolve host [x]``)
_LOOKUP_WORDS = frozenset({"failed", "host", "hostname", "unable", "resolve", "resolving", "name", "the", "to"})


def looked_up(line: str) -> str | None:
    """The host name a failed name resolution asked for, or None."""
    for regex in _LOOKUPS:
        match = regex.search(line)
        if match:
            host = _clean_host(match.group("host"))
            if host is not None and host not in _LOOKUP_WORDS:
                return host
    return None


# provider hosts -> short provider names (docs/causes.md: "s3", "stripe")
_AWS = re.compile(r"(?:^|\.)(s3|dynamodb|sqs|sns|kinesis|lambda|sts|ecr|secretsmanager|kms|logs|monitoring|"
                  r"cognito-idp|cognito-identity|ssm|execute-api|apigateway|email|route53)"
                  r"(?:[.-][a-z0-9-]+)*\.amazonaws\.com$")
# an AWS endpoint's first label -> the short name the service is known by (``cognito-idp`` -> ``cognito``)
_AWS_SHORT = {"cognito-idp": "cognito", "cognito-identity": "cognito", "execute-api": "apigateway", "email": "ses"}
_PROVIDER_WORDS: tuple[tuple[str, str], ...] = (
    (r"\bAmazon S3\b|\bS3\b|\bSlowDown\b", "s3"),
    (r"\bDynamoDB\b|ProvisionedThroughputExceeded", "dynamodb"),
    (r"\bCognitoIdentityProvider\b|\bAmazon Cognito\b", "cognito"),
    (r"\bAmazon SQS\b|\bSQS\b", "sqs"),
    (r"\bKinesis\b", "kinesis"),
    (r"storage\.googleapis\.com|\bGCS\b|Google Cloud Storage", "gcs"),
    (r"blob\.core\.windows\.net|Azure Storage|\bServerBusy\b", "azure-storage"),
    (r"\bRunInstances\b|\bAmazon EC2\b|\bEC2\b|VcpuLimitExceeded|InstanceLimitExceeded", "ec2"),
)
_PROVIDERS = tuple((re.compile(p), name) for p, name in _PROVIDER_WORDS)


# host names under a provider's shared domain: the provider is what the evidence means (an account's endpoint
# ``acme.blob.core.windows.net`` is Azure Storage, ``bucket.s3.amazonaws.com`` is S3)
_PROVIDER_DOMAINS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\.blob\.core\.windows\.net$|\.(?:table|queue|file)\.core\.windows\.net$"), "azure-storage"),
    (re.compile(r"(?:^|\.)storage\.googleapis\.com$"), "gcs"),
)


def provider_of_host(host: str) -> str | None:
    """The provider a host name belongs to (``s3``, ``azure-storage``), or None for any other host."""
    low = host.lower().rstrip(".")
    aws = _AWS.search(low)
    if aws:
        return _AWS_SHORT.get(aws.group(1), aws.group(1))
    for regex, name in _PROVIDER_DOMAINS:
        if regex.search(low):
            return name
    return None


def provider_of(line: str) -> str | None:
    """A short name of the external provider a line names (``s3``, ``dynamodb``), else its host."""
    peer = peer_of(line)
    if peer is not None:
        aws = _AWS.search(peer.host)
        if aws:
            return _AWS_SHORT.get(aws.group(1), aws.group(1))
    for regex, name in _PROVIDERS:
        if regex.search(line):
            return name
    return peer.host if peer is not None else None
