"""Redaction of secrets and personal data before anything leaves the process for an LLM.

Replaces each match with a typed placeholder (``[REDACTED:aws_key]``) so the model still sees that something
was there; for ``key=value`` shapes the key stays and only the value goes (``password=[REDACTED:secret]``).

``SHAPES`` is the rule set as a data table: one row per secret shape, with the pattern, a line that holds
such a secret (``positive``, which must lose ``leak``) and a look-alike that must stay untouched
(``negative``). Tests run every row both ways; ``python -m bench.resilience`` measures the whole table on a
labelled corpus and on ordinary log lines. Shapes follow the formats vendors document for their keys
(prefixes and lengths); the checklist of vendors was the rule set of the ``detect-secrets`` project, without
its entropy detectors (too many false positives on log lines), and ``tests/reasoning/test_redact_detect_secrets.py``
runs that project's detectors over the benchmark's corpus: whatever they flag must be redacted here. Order matters: the specific shapes (vendor
prefixes, URLs) run before the broad ones (``key=value``, personal data). A pattern with a group named
``secret`` replaces only that group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    name: str  # the placeholder's label
    pattern: re.Pattern[str]
    positive: str  # a line holding such a secret
    leak: str  # the part of ``positive`` that must not survive
    negative: str  # a look-alike that must survive untouched
    personal: bool = False  # personal data rather than a credential (reported apart in the benchmark)


def _s(name: str, regex: str, positive: str, leak: str, negative: str, flags: int = 0,
       personal: bool = False) -> Shape:
    return Shape(name, re.compile(regex, flags), positive, leak, negative, personal)


_KEYWORD = (r"(?:[A-Za-z0-9]+[_.-])*(?:password|passwd|passphrase|pwd|secret|token(?!s)|api[_-]?key|apikey"
            r"|access[_-]?key|private[_-]?key|client[_-]?secret|credentials?|auth[_-]?key|signing[_-]?key"
            r"|encryption[_-]?key|master[_-]?key|session[_-]?key)"
            r"(?![_.-]?(?:type|id|ids|count|name|url|uri|file|path|len|length|expir\w*|ttl|usage|used|limit|endpoint"
            r"|policy|hint|reset|required|age|format|source)\b)(?:[_.-][A-Za-z0-9]+)*")
_VALUE_END = r"(?=$|[\s\"',;&)}\]])"

SHAPES: tuple[Shape, ...] = (
    # ---- blocks and structured tokens ---------------------------------------------------------------
    _s("private_key", r"-{4,5} ?BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)? ?-{4,5}.*?-{4,5} ?END (?:[A-Z0-9]+ )*"
       r"PRIVATE KEY(?: BLOCK)? ?-{4,5}",  # four dashes: SSH2 (``---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----``)
       "key: -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAzfakefakefake\n-----END RSA PRIVATE KEY-----",
       "MIIEowIBAAKCAQEAzfakefakefake", "-----BEGIN CERTIFICATE-----\nMIIBfakecert\n-----END CERTIFICATE-----",
       re.S),
    _s("private_key", r"-{4,5} ?BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)? ?-{4,5}"  # cut short (a truncated log line):
       r"(?:\s*(?:[A-Za-z-]+: [^\n]*|[A-Za-z0-9+/=]{16,}))*",  # the header, PEM headers and the base64 lines that follow
       "log truncated: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0fakefake", "MIIEvQIBADANBgkqhkiG9w0fakefake",
       "---- BEGIN SSH2 PUBLIC KEY ----\nAAAAB3NzaC1yc2EfakeAAA"),
    _s("private_key", r"PuTTY-User-Key-File-\d+:.*?(?:Private-MAC: [0-9a-fA-F]+|\Z)",
       "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\nAAAAIfakefakefake\nPrivate-MAC: 0a1b2c",
       "AAAAIfakefakefake", "PuTTYgen saved the public key", re.S),
    _s("private_key", r"-----BEGIN PGP PRIVATE KEY BLOCK-----.*?-----END PGP PRIVATE KEY BLOCK-----",
       "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBGfakepgp\n-----END PGP PRIVATE KEY BLOCK-----", "lQOYBGfakepgp",
       "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQINBGfake\n-----END PGP PUBLIC KEY BLOCK-----", re.S),
    _s("private_key", r"\bAGE-SECRET-KEY-1[0-9A-Z]{50,}\b",
       "AGE-SECRET-KEY-1QQQSZ5Q9ZYFSGZC5ZTZ9TWV2HQFN8HDW4FLUXE4T9SC35GHS5GDSGDNYS7G",
       "QQQSZ5Q9ZYFSGZC5ZTZ9TWV2HQFN8HDW4FLUXE4T9SC35GHS5GDSGDNYS7G", "age public key age1qqqsz5q9zyfsgzc5ztz9"),
    _s("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",  # unsigned (``alg: none``) too
       "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlZmFrZQ ok",
       "eyJzdWIiOiIxMjM0NTY3ODkwIn0", "version eyJ.not.a.token and eyJ-header only"),
    # ---- cloud providers -------------------------------------------------------------------------------
    _s("aws_key", r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[0-9A-Z]{16}\b",
       "key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE", "request id AKIA-not-a-key and AKIAshort"),
    _s("aws_secret", r"(?i)\baws_?secret_?access_?key\b[\"']?\s*[=:]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
       "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
       "aws_secret_access_key is not set; see the docs"),
    _s("aws_secret", r"(?i)\baws[A-Za-z0-9_.-]{0,20}?(?:key|pwd|pw|pass|token)[A-Za-z0-9_.-]{0,20}?[\"']?\s*(?:=>|:=|=|:)"
       r"\s*[\"']?(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",  # any name: awsSecretKey, AWS_KEY, aws.secret.key
       'awsSecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
       "awsKeyRotation: every 90 days, aws_key_id unset"),
    _s("aws_session_token", r"(?i)\baws_?session_?token\b[\"']?\s*[=:]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{40,})",
       "AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjEfakefakefakefakefakefakefake1234", "IQoJb3JpZ2luX2VjEfakefakefakefakefakefakefake1234",
       "refreshing aws session token in 5 minutes"),
    _s("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])",
       "maps key=AIzaSyD-fake0fake1fake2fake3fake4fake5f", "AIzaSyD-fake0fake1fake2fake3fake4fake5f",
       "AIza prefix alone, AIzaShort"),
    _s("google_oauth", r"\bGOCSPX-[A-Za-z0-9_-]{24,32}\b", "client GOCSPX-fakefakefakefakefakefakefak12",
       "GOCSPX-fakefakefakefakefakefakefak12", "GOCSPX- prefix documented"),
    _s("google_oauth", r"\bya29\.[0-9A-Za-z_-]{20,}", "Authorization ya29.a0AfH6SMfakefakefakefakefake1234",
       "ya29.a0AfH6SMfakefakefakefakefake1234", "version ya29.1 released"),
    _s("azure_storage", r"(?i)\b(?:AccountKey|SharedAccessKey|SharedSecretValue)=(?P<secret>[A-Za-z0-9+/=]{20,})",
       "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=ZmFrZWtleWZha2VrZXlmYWtla2V5ZmFrZQ==;EndpointSuffix=core.windows.net",
       "ZmFrZWtleWZha2VrZXlmYWtla2V5ZmFrZQ==", "AccountName=acct;EndpointSuffix=core.windows.net"),
    _s("azure_sas", r"(?i)(?<=[?&])sig=(?P<secret>[A-Za-z0-9%+/=]{20,})",
       "GET https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=ZmFrZXNpZ25hdHVyZWZha2U%3D",
       "ZmFrZXNpZ25hdHVyZWZha2U%3D", "GET https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sp=r"),
    _s("azure_client_secret", r"\b[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}\b",
       "AZURE_CLIENT_SECRET was abc8Q~fakefakefakefakefakefakefake12345", "abc8Q~fakefakefakefakefakefakefake12345",
       "tilde path ~/abc and Q~ alone"),
    _s("ibm_cloud", r"(?i)(?<![A-Za-z0-9])[\"']?(?:ibm[_-]?cloud[_-]?iam|ibm[_-]?cloud|ibm[_-]?iam|cloud[_-]?iam|ibm[_-]?cos"
       r"(?:[_-]?hmac)?|cos[_-]?hmac|ibm|iam)[_-]?(?:api[_-]?)?(?:key|pwd|pw|pass|password|token)[\"']?\s*(?:=>|:=|=|:)\s*"
       r"[\"']?(?P<secret>[A-Za-z0-9_-]{20,})", "IBM_CLOUD_IAM_KEY=fakefakefakefakefakefakefakefakefakefake1234",
       "fakefakefakefakefakefakefakefakefakefake1234", "iam_key_id=42 and IBM_KEY_ROTATION=enabled"),
    _s("cloudant", r"(?i)(?<![A-Za-z0-9])[\"']?(?:cloudant|clou|cl)[_-]?(?:api[_-]?)?(?:key|pwd|pw|pass|password|token)[\"']?"
       r"\s*(?:=>|:=|=|:)\s*[\"']?(?P<secret>[A-Za-z0-9_-]{20,})", "CLOUDANT_KEY=fakefakefakefakefakefakef",
       "fakefakefakefakefakefakef", "cloudant_key_rotation: monthly, ssl_key=/etc/ssl/private/server.key"),
    _s("softlayer", r"(?i)(?<![A-Za-z0-9])[\"']?(?:softlayer|sl)[_-]?(?:api[_-]?)?(?:key|pwd|pw|pass|password|token)[\"']?"
       r"\s*(?:=>|:=|=|:)\s*[\"']?(?P<secret>[A-Za-z0-9_-]{20,})", "softlayer_key: " + "0a1b2c3d" * 8, "0a1b2c3d" * 8,
       "sl_token_count=42 ssl_key: /etc/ssl/private/server.key"),
    _s("softlayer", r"(?i)\bhttps?://api\.softlayer\.com/soap/v3(?:\.1)?/(?P<secret>[a-z0-9]{64})",
       "POST https://api.softlayer.com/soap/v3/" + "0a1b2c3d" * 8, "0a1b2c3d" * 8,
       "POST https://api.softlayer.com/soap/v3/SoftLayer_Account"),
    _s("digitalocean", r"\bdo[opr]_v1_[a-f0-9]{64}\b",
       "DO token dop_v1_" + "ab12" * 16, "dop_v1_" + "ab12" * 16, "dop_v1_ prefix docs"),
    _s("databricks", r"\bdapi[0-9a-f]{32}(?:-\d)?\b", "token dapi0123456789abcdef0123456789abcdef",
       "dapi0123456789abcdef0123456789abcdef", "dapi route /api/dapi/v1"),
    _s("vault_token", r"\bhv[sbr]\.[A-Za-z0-9_-]{24,}", "VAULT hvs.CAESIfakefakefakefakefakefake1234",
       "hvs.CAESIfakefakefakefakefakefake1234", "hvs.short value"),
    _s("doppler", r"\bdp\.(?:st|ct|sa|scim|audit)\.[A-Za-z0-9_.-]{40,}", "dp.st.dev.fakefakefakefakefakefakefakefakefake1234",
       "fakefakefakefakefakefakefakefakefake1234", "dp.st config"),
    # ---- source hosting and package registries -----------------------------------------------------------
    _s("github_token", r"\bgh[pousr]_[A-Za-z0-9]{36,}\b", "push with ghp_fakefakefakefakefakefakefakefake1234",
       "ghp_fakefakefakefakefakefakefakefake1234", "ghp_short and gh_pages branch"),
    _s("github_token", r"\bgithub_pat_[A-Za-z0-9_]{60,}\b",
       "GH github_pat_11ABCDEFG0fakefakefakefake_fakefakefakefakefakefakefakefakefakefakefakefakefake1",
       "github_pat_11ABCDEFG0fakefakefakefake_fakefakefakefakefakefakefakefakefakefakefakefakefake1",
       "github_pat_ tokens are documented"),
    _s("gitlab_token", r"\bgl(?:pat|ptt|dt|rt|cbt|imt|agent|oas|ft|soat)-[A-Za-z0-9_-]{20,}",
       "clone with glpat-fakefakefakefake1234 now", "glpat-fakefakefakefake1234", "glpat- prefix in docs"),
    _s("gitlab_token", r"\bGR1348941[A-Za-z0-9_-]{20,}", "runner GR1348941fakefakefakefake1234",
       "GR1348941fakefakefakefake1234", "GR1348941 alone"),
    _s("npm_token", r"(?i)(?<![A-Za-z0-9])_(?:authToken|auth|password)\s*=\s*(?P<secret>[^\s\"']+)",  # .npmrc, legacy tokens
       "//registry.npmjs.org/:_authToken=0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f", "0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f",
       "//registry.npmjs.org/:always-auth=true"),
    _s("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b", "//registry.npmjs.org/:_authToken=npm_fakefakefakefakefakefakefakefake1234",
       "npm_fakefakefakefakefakefakefakefake1234", "npm_config_cache=/tmp/npm"),
    _s("pypi_token", r"\bpypi-AgE[A-Za-z0-9_-]{50,}", "TWINE_PASSWORD pypi-AgEIcHlwaS5vcmcfakefakefakefakefakefakefakefakefakefake12",
       "AgEIcHlwaS5vcmcfakefakefakefakefakefakefakefakefakefake12", "pypi-simple index"),
    _s("artifactory", r"\bAKCp[A-Za-z0-9]{10,}\b", "X-JFrog-Art-Api: AKCp5fakefakefakefakefake1234",
       "AKCp5fakefakefakefakefake1234", "AKC prefix and AKCpShort"),
    _s("artifactory", r"(?<![A-Za-z0-9])AP[0-9A-F](?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]{8,}(?![A-Za-z0-9])",
       "curl -u deployer:AP6fakefake1234fakefake https://acme.jfrog.io", "AP6fakefake1234fakefake",
       "region APAC2024Q1 and APE12345678 and APIGateway"),
    _s("docker_hub", r"\bdckr_pat_[A-Za-z0-9_-]{27,}", "login dckr_pat_fakefakefakefakefakefake123",
       "dckr_pat_fakefakefakefakefakefake123", "dckr_pat_ prefix"),
    # ---- chat, mail, payments, SaaS ------------------------------------------------------------------
    _s("slack_token", r"\bxox[abposre]-(?:\d+-)?[A-Za-z0-9-]{10,}", "token xoxb-1234567890-abcdefghij",
       "xoxb-1234567890-abcdefghij", "xox prefix, xoxo hugs"),
    _s("slack_token", r"\bxapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{32,}", "xapp-1-A0FAKE-1234567890-" + "ab" * 32,
       "ab" * 32, "xapp-1 socket mode"),
    _s("slack_webhook", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}",
       "posting to https://hooks.slack.com/services/T00000000/B00000000/XXXXfakeXXXXfakeXXXX",
       "T00000000/B00000000/XXXXfakeXXXXfakeXXXX", "see https://api.slack.com/messaging/webhooks"),
    _s("discord_webhook", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]{30,}",
       "hook https://discord.com/api/webhooks/123456789012345678/fakefakefakefakefakefakefakefake12",
       "fakefakefakefakefakefakefakefake12", "https://discord.com/developers/docs"),
    _s("telegram_token", r"\b\d{8,10}:AA[A-Za-z0-9_-]{30,40}\b", "bot 1234567890:AAfakefakefakefakefakefakefakefake123",
       "1234567890:AAfakefakefakefakefakefakefakefake123", "at 12:30:45 retry 3"),
    _s("telegram_token", r"\b\d{8,10}:[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])", "bot 123456789:Bfakefakefakefakefakefakefakefake12",
       "123456789:Bfakefakefakefakefakefakefakefake12", "job 1733490000:done after 12:30:45"),
    _s("discord_token", r"\b[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}(?![A-Za-z0-9_-])",
       "Authorization: Bot MTfakefakefakefakefake123.Gfake1.fakefakefakefakefakefake12345",
       "MTfakefakefakefakefake123.Gfake1.fakefakefakefakefakefake12345", "Mozilla/5.0 build N1.2.3 and O.k"),
    _s("teams_webhook", r"https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[A-Za-z0-9@/_-]{40,}",
       "https://acme.webhook.office.com/webhookb2/fakeguid-0000@fakeguid-1111/IncomingWebhook/fake0123456789/fakeguid",
       "fakeguid-0000@fakeguid-1111/IncomingWebhook", "https://acme.sharepoint.com/sites/ops"),
    _s("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{20,}\b", "charge with sk_live_fakefakefakefakefake1234",
       "sk_live_fakefakefakefakefake1234", "sk_live_ keys rotate"),
    _s("stripe_webhook", r"\bwhsec_[A-Za-z0-9]{24,}\b", "STRIPE whsec_fakefakefakefakefakefake1234",
       "whsec_fakefakefakefakefakefake1234", "whsec_ prefix"),
    _s("twilio", r"\b(?:AC|SK)[0-9a-f]{32}\b", "twilio sid SK0123456789abcdef0123456789abcdef",
       "SK0123456789abcdef0123456789abcdef", "SKU-12345 and ACME corp"),
    _s("sendgrid", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b",
       "mail key SG.fakefakefakefakefake12.fakefakefakefakefakefakefakefakefakefake123",
       "SG.fakefakefakefakefake12.fakefakefakefakefakefakefakefakefakefake123", "SG.region eu-west"),
    _s("mailgun", r"\bkey-[0-9a-f]{32}\b", "mailgun key-0123456789abcdef0123456789abcdef",
       "key-0123456789abcdef0123456789abcdef", "cache key-value store"),
    _s("mailchimp", r"\b[0-9a-f]{32}-us\d{1,2}\b", "mc 0123456789abcdef0123456789abcdef-us21",
       "0123456789abcdef0123456789abcdef-us21", "region us-east-1"),
    _s("shopify", r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b", "shop shpat_0123456789abcdef0123456789abcdef",
       "shpat_0123456789abcdef0123456789abcdef", "shpat_ docs"),
    _s("square", r"\bsq0(?:atp|csp)-[0-9A-Za-z_-]{22,}", "square sq0atp-fakefakefakefakefake12",
       "sq0atp-fakefakefakefakefake12", "sq0 prefix"),
    _s("openai_key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}", "OPENAI sk-proj-fakefakefakefakefakefake1234",
       "sk-proj-fakefakefakefakefakefake1234", "sk-learn model, task-1234"),
    _s("anthropic_key", r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{40,}",
       "key sk-ant-api03-fakefakefakefakefakefakefakefakefakefake1234", "fakefakefakefakefakefakefakefakefakefake1234",
       "sk-ant prefix"),
    _s("huggingface", r"\bhf_[A-Za-z]{34}\b", "HF hf_fakefakefakefakefakefakefakefakefa", "hf_fakefakefakefakefakefakefakefakefa",
       "hf_hub_offline=1"),
    _s("datadog_key", r"(?i)\b(?:DD|DATADOG)_(?:API|APP)_KEY\b[\"']?\s*[=:]\s*[\"']?(?P<secret>[a-f0-9]{32,40})\b",
       "DD_API_KEY=0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef", "DD_API_KEY is required"),
    _s("newrelic", r"\bNR(?:AK|AA|II|JS)-[A-Z0-9]{27}\b", "NRAK-FAKEFAKEFAKEFAKEFAKEFAKE123", "NRAK-FAKEFAKEFAKEFAKEFAKEFAKE123",
       "NRAK- prefix"),
    _s("grafana_token", r"\bgl(?:sa|c)_[A-Za-z0-9_+/=-]{32,}", "grafana glsa_fakefakefakefakefakefakefake1234_0a1b2c3d",
       "glsa_fakefakefakefakefakefakefake1234_0a1b2c3d", "glsa_ tokens"),
    _s("atlassian", r"\bATATT3[A-Za-z0-9_=-]{60,}", "jira ATATT3xFfGF0fakefakefakefakefakefakefakefakefakefakefakefakefake1234",
       "ATATT3xFfGF0fakefakefakefakefakefakefakefakefakefakefakefakefake1234", "ATATT3 prefix"),
    _s("linear", r"\blin_api_[A-Za-z0-9]{40}\b", "lin_api_fakefakefakefakefakefakefakefakefake1234",
       "lin_api_fakefakefakefakefakefakefakefakefake1234", "lin_api_ prefix"),
    _s("postman", r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b", "PMAK-0123456789abcdef01234567-0123456789abcdef0123456789abcdef01",
       "PMAK-0123456789abcdef01234567-0123456789abcdef0123456789abcdef01", "PMAK- prefix"),
    _s("pulumi", r"\bpul-[a-f0-9]{40}\b", "PULUMI_ACCESS_TOKEN pul-0123456789abcdef0123456789abcdef01234567",
       "pul-0123456789abcdef0123456789abcdef01234567", "pul-request 42 merged"),
    _s("terraform_cloud", r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,}",
       "TFE fakefakefake12.atlasv1.fakefakefakefakefakefakefakefakefakefakefakefakefakefakefake1234",
       "fakefakefakefakefakefakefakefakefakefakefakefakefakefakefake1234", "atlasv1 api"),
    _s("sentry_token", r"\bsntry[su]_[A-Za-z0-9+/=_]{40,}", "SENTRY_AUTH_TOKEN sntrys_fakefakefakefakefakefakefakefakefake1234",
       "sntrys_fakefakefakefakefakefakefakefakefake1234", "sntrys_ prefix"),
    _s("planetscale", r"\bpscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.-]{32,}", "db pscale_pw_fakefakefakefakefakefakefakefake1234",
       "pscale_pw_fakefakefakefakefakefakefakefake1234", "pscale_pw_ prefix"),
    _s("rubygems", r"\brubygems_[a-f0-9]{48}\b", "gem rubygems_" + "0a1b" * 12, "rubygems_" + "0a1b" * 12,
       "rubygems_org mirror"),
    _s("flyio", r"\bfo1_[A-Za-z0-9_-]{40,48}\b", "FLY fo1_fakefakefakefakefakefakefakefakefakefak123",
       "fo1_fakefakefakefakefakefakefakefakefakefak123", "fo1_ prefix"),
    _s("heroku", r"\bHRKU-[A-Za-z0-9_-]{58,}", "HEROKU HRKU-AAfakefakefakefakefakefakefakefakefakefakefakefakefakefake1234",
       "AAfakefakefakefakefakefakefakefakefakefakefakefakefakefake1234", "HRKU- prefix"),
    _s("connection_string", r"(?i)(?:^|[;\s\"'])(?:Password|Pwd)=(?P<secret>[^;\"'\s]+)",
       "Server=db;Database=app;User Id=sa;Password=Mssql-pw-7;", "Mssql-pw-7", "Server=db;Database=app;Integrated Security=true;"),
    # ---- URLs and HTTP headers -------------------------------------------------------------------------
    _s("url_credentials", r"(?<=://)(?P<secret>[^/\s:@?#]*:[^\s]+?)(?=@[^\s@/]+(?:[/?#\s]|$))",
       "connecting to postgres://app:p@ssw0rd@db:5432/app", "p@ssw0rd", "see https://example.com/users/@me"),
    _s("url_credentials", r"(?<=://):(?P<secret>[^\s@/]+)(?=@)", "cache redis://:pw-cache-1@redis:6379/0",
       "pw-cache-1", "redis://redis:6379/0"),
    _s("url_credentials", r"(?<=https://)(?P<secret>[0-9a-f]{32})(?=@)", "dsn https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/5",
       "0123456789abcdef0123456789abcdef", "https://o1.ingest.sentry.io/5"),
    _s("basic_auth", r"(?i)\b(?P<scheme>basic)\s+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])",
       "Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA==", "basic auth disabled for health checks"),
    _s("bearer", r"(?i)\b(?P<scheme>bearer|token|ssws)\s+(?P<secret>[A-Za-z0-9._~+/-]{16,}=*)",
       "Authorization: Bearer abcdefghijklmnop1234", "abcdefghijklmnop1234", "bearer token expired for user bob"),
    _s("secret", r"(?i)(?<=[?&;])(?:access_token|refresh_token|id_token|client_secret|api_key|apikey|token|"
       r"password|passwd|code|sig|signature|x-amz-signature|x-amz-security-token|private_token)=(?P<secret>[^&\s#\"']+)",
       "GET /callback?state=x&access_token=ya-fake-123&page=2", "ya-fake-123", "GET /orders?page=2&token_type=none"),
    # ---- key = value -------------------------------------------------------------------------------------
    _s("secret", r"(?i)\b(?:MYSQL_PWD|PGPASSWORD|PGPASS|REDIS_PASS|REDISCLI_AUTH)\b\s*[=:]\s*[\"']?(?P<secret>[^\s\"']+)",
       "env PGPASSWORD=pg-pass-42 psql", "pg-pass-42", "PGHOST=db PGUSER=app"),
    _s("secret", r"(?i)[\"']" + _KEYWORD + r"[\"']\s*:\s*[\"'](?P<secret>[^\"']{1,})[\"']",
       '{"api_key": "zzz-123-yyy"}', "zzz-123-yyy", '{"tokens_used": 512, "api_key_id": 7}'),
    _s("secret", r"(?i)\b" + _KEYWORD + r"\s*[=:]\s*[\"'](?P<secret>[^\"'\n]{1,})[\"']",
       'password: "x"', '"x"', 'password_policy: "strong"'),
    _s("secret", r"(?i)\b" + _KEYWORD + r"\s*(?:=|:(?!//))\s*(?P<secret>(?![\"'])[^\s\"',;&)}\]]{3,})" + _VALUE_END,
       "DB_PASSWORD=hunter22 app start", "hunter22", "max_tokens=512 and token expired"),
    _s("secret", r"(?i)--(?:password|token|api-key|secret|client-secret)[= ](?P<secret>[^\s\"']{3,})",
       "mysql --password=cli-pass-9 -h db", "cli-pass-9", "use --password-file /run/secrets/db"),
    _s("docker_auth", r"\"auth\"\s*:\s*\"(?P<secret>[A-Za-z0-9+/]{12,}={0,2})\"",
       '{"auths": {"registry.example": {"auth": "dXNlcjpwYXNzd29yZA=="}}}', "dXNlcjpwYXNzd29yZA==",
       '{"auth": "disabled"}'),
    # ---- personal data -------------------------------------------------------------------------------------
    _s("email", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b", "mail bob.smith@example.org now",
       "bob.smith@example.org", "pkg foo@1.2.3 installed", personal=True),
    _s("card", r"\b(?:\d{4}[ -]?){3}\d{3,4}\b", "paid with 4111 1111 1111 1111 today", "4111 1111 1111 1111",
       "took 1733490000123 ms", personal=True),
    _s("ipv4", r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b", "client 10.1.2.3 refused",
       "10.1.2.3", "version 1.2.3 deployed", personal=True),
    _s("phone", r"(?<![\w.])\+?\d{1,3}[ .-]?\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]\d{3,4}\b", "call +1 415 555 0100 now",
       "415 555 0100", "at 2026-12-06 15:30:00", personal=True),
)


def _luhn_ok(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


def _replace(shape: Shape, text: str) -> str:
    placeholder = f"[REDACTED:{shape.name}]"

    def one(match: re.Match[str]) -> str:
        if shape.name == "card" and not _luhn_ok(match.group(0)):
            return match.group(0)
        if match.groupdict().get("secret") is None:
            return placeholder
        start, end = (i - match.start() for i in match.span("secret"))
        whole = match.group(0)
        return f"{whole[:start]}{placeholder}{whole[end:]}"

    return shape.pattern.sub(one, text)


def redact(text: str) -> str:
    """``text`` with secrets and personal data replaced by ``[REDACTED:<what>]``."""
    out = text
    for shape in SHAPES:
        out = _replace(shape, out)
    return out


def redaction_count(text: str) -> int:
    return text.count("[REDACTED:")


def secret_shapes() -> list[Shape]:
    """The credential shapes (personal data left out), for tests and the benchmark."""
    return [s for s in SHAPES if not s.personal]
