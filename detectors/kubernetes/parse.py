"""Recognise kubectl output by its content and parse it (never by file name).

A saved file may hold several outputs one after the other, each introduced by the command that made it
(``$ kubectl describe pod x``) or pasted without it; they are split at command lines and where the text's shape
says a new output begins (``shapes``), and each part is recognised alone. What is neither
an API object, a describe, an events table nor a rollout history is container log text; log text whose pod
nothing names is cut where its line format changes (several containers' logs pasted one after another,
``log_forms``), and each piece's owner is read from what it says (``container_logs``).
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Callable

from bot.domain import KubeText
from bot.domain.workloads import workload_of_pod, workload_of_replicaset
from detectors.kubernetes.describe import looks_like_describe, parse_describe, parse_describe_fragment
from detectors.kubernetes.events_table import (
    DESCRIBE_ROW,
    OBJECT_ROW,
    is_events_header,
    parse_events_table,
)
from detectors.kubernetes.log_forms import split_forms
from detectors.kubernetes.model import ContainerLog, Findings, KubeEvent, ObjectRef, Rollout
from detectors.kubernetes.objects import (
    looks_like_api_object,
    parse_event_lines,
    parse_fragment,
    parse_objects,
)
from detectors.kubernetes.shapes import EVENTS, split_shapes
from detectors.kubernetes.tables import is_table, parse_table
from detectors.kubernetes.text import clean

log = logging.getLogger(__name__)

_COMMAND = re.compile(r"^\s*(?:[\w@:~./-]*[$#%>]\s*)?(?P<cmd>(?:kubectl|oc|k)\s+\S.*)$")
# a shell prompt running another program (curl, openssl, aws, psql; or kubectl with a verb that reads nothing):
# what follows is that program's output, not the previous kubectl command's
# (``$`` alone or after user@host; ``#`` only after user@host:dir, a bare ``# HELP`` being a metrics comment)
_OTHER_PROMPT = re.compile(r"^\s*(?:[\w@:~./-]*\$|[\w.-]+@[\w.-]+:[\w~./-]*#|PS [^>]*>)\s+[a-zA-Z][\w.-]*(?:\s|$)")
_ROLLOUT_HEADER = re.compile(r"^\s*REVISION\s+CHANGE-CAUSE\s*$", re.M)
_ROLLOUT_OBJECT = re.compile(r"^\s*(?P<kind>deployment|daemonset|statefulset)[\w.]*/(?P<name>[\w.-]+)", re.M | re.I)
_ROLLOUT_ROW = re.compile(r"^\s*(?P<rev>\d+)\s+(?P<cause>.*)$")
_ROLLOUT_STATUS = re.compile(r"(?:deployment|statefulset|daemonset)s?(?:\.apps)?[ /]\"?(?P<name>[\w.-]+)\"? "
                             r"exceeded its progress deadline")
_DESCRIBE_EVENTS_HEADER = re.compile(r"^\s*Type\s+Reason\s+Age\s+From\s+Message\s*$")  # describe's Events section
_PREFIX = re.compile(r"^\[pod/(?P<pod>[\w.-]+)/(?P<container>[\w.-]+)\]\s?(?P<line>.*)$")
# other ways several pods' lines come prefixed with the pod that wrote them, each read only when a pod's name
# (a controller's pod name: ``checkout-7c9d8f6b5-x2abq``, ``kafka-2``) starts most of the text's lines:
# ``[pod/name]`` (no container), ``name | line`` (compose-like aggregators), ``name container line`` (stern)
_PREFIX_FORMS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^\[(?:pod/)?(?P<pod>[a-z0-9][a-z0-9.-]*)\]\s?(?P<line>.*)$"),
    re.compile(r"^(?P<pod>[a-z0-9][a-z0-9.-]*)\s*\| (?P<line>.*)$"),
    re.compile(r"^(?P<pod>[a-z0-9][a-z0-9.-]*) (?P<container>[a-z0-9][a-z0-9-]*) (?P<line>\S.*)$"),
)
_PREFIXED_SHARE = 0.6  # share of a text's non-blank lines a form must prefix with pod names to be read
_VALUE_FLAGS = {"-n", "--namespace", "-c", "--container", "--tail", "--since", "--since-time", "-l", "--selector",
                "--context", "--kubeconfig", "--limit-bytes", "--pod-running-timeout", "--max-log-requests"}
MAX_SEGMENTS = 200


def parse_kube_text(item: KubeText) -> Findings:
    """Everything recognisable in one saved output; never raises (a part that fails is skipped)."""
    findings = Findings()
    for command, segment in split_commands(clean(item.text)):
        try:
            findings.extend(parse_segment(segment, origin=item.name, command=command))
        except Exception as e:  # noqa: BLE001 - bad input is skipped, never fatal
            log.debug("kubernetes: part not parsed", extra={"origin": item.name, "error": f"{type(e).__name__}: {e}"})
    _one_namespace(findings)
    _name_orphan_events(findings)
    return findings


# a controller's message naming the pod it could not make (``Error creating: pods "web-7d9f8c6b5-2v8kq" is forbidden``)
_POD_QUOTED = re.compile(r"\bpods? \"(?P<pod>[a-z0-9][a-z0-9.-]*[a-z0-9])\"")


def _name_orphan_events(findings: Findings) -> None:
    """Events whose object nothing said (a describe's Events section pasted without its command or name) are about
    what their content names: the pod a controller's message quotes, else, when the outputs saved with them list
    the pods of one workload only, a pod of that workload (the section was cut from its describe)."""
    orphans = [e for e in findings.events if not e.obj.kind and not e.obj.name]
    if not orphans:
        return
    for event in orphans:
        quoted = _POD_QUOTED.search(event.message or "")
        if quoted:
            event.obj = ObjectRef("Pod", quoted.group("pod"), event.obj.namespace)
    _name_by_controller(orphans)
    orphans = [e for e in orphans if not e.obj.kind and not e.obj.name]
    workloads = {workload_of_pod(p.name) for p in findings.pods if p.name}
    sole = next((p for p in findings.pods if p.name), None) if len(workloads) == 1 else None
    for event in orphans:
        if sole is not None:
            event.obj = ObjectRef("Pod", sole.name, sole.namespace or event.obj.namespace)


# controller (an event's From / reportingComponent) -> (the kind of object it reports on, how its messages name
# that object's child, the object's name from the child's): a Deployment's controller says which ReplicaSet it
# scaled (``Scaled up replica set cart-service-6b8d4c7f9 to 10``), a CronJob's which Job it made or saw
# (``Created job usage-rollup-29391120``, a Job named after its CronJob and its scheduled minute)
_CONTROLLER_CHILD: dict[str, tuple[str, re.Pattern[str], Callable[[str], str]]] = {
    "deployment-controller": ("Deployment", re.compile(r"\breplica set (?P<child>[a-z0-9][a-z0-9.-]*[a-z0-9])\b"),
                              workload_of_replicaset),
    "cronjob-controller": ("CronJob", re.compile(r"\bjob:? (?P<child>[a-z0-9][a-z0-9.-]*-\d{6,})\b"),
                           lambda job: job.rsplit("-", 1)[0]),
}


def _name_by_controller(orphans: list[KubeEvent]) -> None:
    """Events a controller reported (a describe's Events section whose ``Name:`` line a filter cut, pasted
    without its command) are about the one object its messages name through a child: every unnamed event of that
    controller is that object's when the messages name exactly one."""
    for controller, (kind, child, parent) in _CONTROLLER_CHILD.items():
        events = [e for e in orphans if not e.obj.kind and not e.obj.name
                  and e.reporter.split(",", 1)[0].strip() == controller]
        named = {parent(m.group("child")) for e in events for m in [child.search(e.message or "")] if m}
        if len(named) != 1:
            continue
        [name] = named
        for event in events:
            event.obj = ObjectRef(kind, name, event.obj.namespace)


def _one_namespace(findings: Findings) -> None:
    """Outputs saved together whose every named namespace is the same one were taken in it: a table printed
    without a namespace column or ``-n`` flag (pasted without its command) is in that namespace too."""
    named = {p.namespace for p in findings.pods} | {p.namespace for p in findings.policies}
    named |= {e.obj.namespace for e in findings.events}
    named.discard("")
    if len(named) != 1:
        return
    [namespace] = named
    for pod in findings.pods:
        pod.namespace = pod.namespace or namespace
    for policy in findings.policies:
        policy.namespace = policy.namespace or namespace


def parse_all(items: list[KubeText]) -> Findings:
    findings = Findings()
    for item in items:
        findings.extend(parse_kube_text(item))
    return findings


def split_commands(text: str) -> list[tuple[str, str]]:
    """(command, output) parts; a part's command is "" when no command line introduced it.

    Parts are cut at command lines, and inside each command's output where the shape of the text says another
    output begins (outputs pasted without their command lines; ``shapes.split_shapes``). A command stays with
    the parts of the shape its output began with (``kubectl get pods,svc`` keeps its namespace on each table), and
    a ``kubectl describe <kind> <name>`` with its ``Events:`` section after other fields; what follows in another shape was pasted after it and is not its output, nor is what follows the prompt of
    another program (``$ curl ...``): that part has no command."""
    commands: list[tuple[str, list[str]]] = [("", [])]
    for line in text.split("\n"):
        match = _COMMAND.match(line) if len(commands) < MAX_SEGMENTS and len(line) < 400 else None
        if match and _is_kubectl(match.group("cmd")):
            commands.append((match.group("cmd"), []))
        elif len(commands) < MAX_SEGMENTS and len(line) < 400 and _OTHER_PROMPT.match(line):
            commands.append(("", []))  # another program's output begins: the prompt line itself is no output
        else:
            commands[-1][1].append(line)
    parts: list[tuple[str, str]] = []
    for cmd, lines in commands:
        shaped = split_shapes("\n".join(lines))
        if not shaped:
            if cmd:
                parts.append((cmd, ""))
            continue
        if len(parts) + len(shaped) > MAX_SEGMENTS:  # too many to cut further: the output stays whole
            parts.append((cmd, "\n".join(lines)))
            continue
        first = shaped[0][0]
        parts.extend((cmd if shape == first or _describe_events(cmd, shape, body) else "", body)
                     for shape, body in shaped)
    return parts


def _describe_events(command: str, shape: str, body: str) -> bool:
    """The ``Events:`` section of a ``kubectl describe <kind> <name>`` whose other fields a filter cut or kept
    (``| sed -n '/^Node-Selectors/,$p'``, ``| tail``) is still that object's output, whatever shape came first."""
    return shape == EVENTS and body.lstrip().startswith("Events:") and command_object(command) is not None


_VERBS = frozenset({"get", "describe", "logs", "rollout", "events", "top", "explain", "drain", "auth", "exec",
                    "debug", "argo"})


def _is_kubectl(cmd: str) -> bool:
    """A kubectl (oc, k) command whose verb reads something, global flags before the verb allowed
    (``kubectl -n shop get pods``, ``kubectl --context prod describe node x``)."""
    return bool(command_verb(cmd))


def command_verb(command: str) -> str:
    """The verb of a kubectl command ("" when it is none): the first word after the program that is neither
    a flag nor a flag's value."""
    words = command.split()
    skip = False
    for word in words[1:12]:
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            skip = word in _VALUE_FLAGS
            continue
        return word if word in _VERBS else ""
    return ""


def command_object(command: str) -> ObjectRef | None:
    """The object a ``kubectl describe <kind> <name>`` (or ``<kind>/<name>``) command is about, else None."""
    words = [w for w in command.split("|", 1)[0].split() if not w.startswith("-")]
    namespace = command_namespace(command)
    words = [w for w in words if w != namespace]
    if "describe" not in words:
        return None
    rest = words[words.index("describe") + 1:]
    if len(rest) == 1 and "/" in rest[0]:
        kind, name = rest[0].split("/", 1)
    elif len(rest) >= 2:
        kind, name = rest[0], rest[1]
    else:
        return None
    kind = _KINDS.get(kind.lower().split(".", 1)[0], "")
    return ObjectRef(kind, name, namespace) if kind and name else None


def filtered_object(command: str) -> ObjectRef | None:
    """The Pod or Node a ``kubectl get <kind> <name> -o json|yaml`` piped through a filter (``jq``, ``yq``), or
    printed with ``-o jsonpath=...``, is about, else None: its output is a part of that object, not the whole."""
    head, _, rest = command.partition("|")
    jsonpath = re.search(r"(?:-o|--output)[ =]?jsonpath=", head) is not None
    if not jsonpath and (not re.search(r"\b(?:jq|yq)\b", rest)
                         or not re.search(r"(?:-o|--output)[ =]?(?:json|yaml)\b", head)):
        return None
    head = re.sub(r"(?:-o|--output)[ =]?jsonpath=(?:'[^']*'|\"[^\"]*\"|\S+)", " ", head)
    words = [w for w in head.split() if not w.startswith("-")]
    namespace = command_namespace(head)
    words = [w for w in words if w != namespace and w not in ("json", "yaml")]
    if "get" not in words:
        return None
    names = words[words.index("get") + 1:]
    if len(names) == 1 and "/" in names[0]:
        names = names[0].split("/", 1)
    if len(names) != 2:
        return None
    kind = _KINDS.get(names[0].lower().split(".", 1)[0], "")
    return ObjectRef(kind, names[1], namespace) if kind in ("Pod", "Node") else None


_KINDS = {"po": "Pod", "pod": "Pod", "pods": "Pod", "no": "Node", "node": "Node", "nodes": "Node",
          "deploy": "Deployment", "deployment": "Deployment", "deployments": "Deployment",
          "sts": "StatefulSet", "statefulset": "StatefulSet", "statefulsets": "StatefulSet",
          "ds": "DaemonSet", "daemonset": "DaemonSet", "daemonsets": "DaemonSet",
          "rs": "ReplicaSet", "replicaset": "ReplicaSet", "replicasets": "ReplicaSet",
          "job": "Job", "jobs": "Job", "cj": "CronJob", "cronjob": "CronJob", "cronjobs": "CronJob",
          "hpa": "HorizontalPodAutoscaler", "horizontalpodautoscaler": "HorizontalPodAutoscaler",
          "pvc": "PersistentVolumeClaim", "persistentvolumeclaim": "PersistentVolumeClaim"}


def parse_segment(text: str, *, origin: str, command: str = "") -> Findings:
    if not text.strip():
        return Findings()
    found = _structured(text, origin, command_namespace(command))
    if found is None and not command and (named := _nameless_deployment(text)) is not None:
        found = parse_describe(named, origin=origin)  # a command's own describe fragment is read as the command's
        found.rollouts.clear()  # read as that command's fragment is: its conditions and events, no rollout of its own
    if found is None and (about := filtered_object(command)) is not None:
        found = parse_fragment(text, about, origin=origin, last_state="lastState" in command)
        if not (found.events or found.pods or found.nodes):
            found = None
    if found is None and not command and (about := _backed_off_pod(text)) is not None:
        found = parse_fragment(text, about, origin=origin)  # a container's status, pasted without its command
        if not (found.events or found.pods or found.nodes):
            found = None
    if found is None and (about := command_object(command)) is not None:
        found = parse_describe_fragment(text, about, origin=origin)  # lines a filter kept from the describe
        if not (found.events or found.pods or found.nodes):
            found = None
    if found is not None:
        _name_unnamed_events(found, command_object(command) or _assigned_pod(found))
    if found is not None and (found.events or found.pods or found.nodes or found.rollouts or found.owners
                              or found.policies):
        return found
    if found is not None and _is_table_or_describe(text):
        return found  # a kubectl table or describe that says nothing useful is still no log text
    # anything else (JSON log lines that looked like an object included) is container log text
    return Findings(logs=parse_logs(text, origin=origin, command=command))


def _structured(text: str, origin: str, namespace: str = "") -> Findings | None:
    if looks_like_api_object(text):
        return parse_objects(text, origin=origin)
    if looks_like_describe(text):
        return parse_describe(text, origin=origin)
    if _ROLLOUT_HEADER.search(text):
        return Findings(rollouts=parse_rollout_history(text, origin=origin))
    stalled = _ROLLOUT_STATUS.search(text[-2000:])
    if stalled:  # kubectl rollout status gave up
        return Findings(events=[KubeEvent(reason="ProgressDeadlineExceeded", message=stalled.group(0),
                                          obj=ObjectRef("Deployment", stalled.group("name")), type="Warning",
                                          origin=origin)])
    if _looks_like_events(text):
        return Findings(events=parse_events_table(text, origin=origin))
    if (lines := parse_event_lines(text, origin=origin)) is not None:
        return Findings(events=lines)
    if is_table(text):
        return parse_table(text, namespace=namespace, origin=origin)
    return None


_NEW_REPLICASET = re.compile(r"^NewReplicaSet:\s+(?P<rs>[a-z0-9][a-z0-9.-]*[a-z0-9])\s+\(", re.M)


def _nameless_deployment(text: str) -> str | None:
    """A ``kubectl describe deployment`` whose ``Name:`` line a filter cut, with that line put back: the Deployment
    is the one whose ReplicaSet its ``NewReplicaSet:`` field names (None when the text is no such describe)."""
    body = text.lstrip("\n")
    new = _NEW_REPLICASET.search(body)
    if new is None or re.match(r"^Name:", body) or not re.match(r"^[A-Z][\w ()./-]*?:", body):
        return None
    workload = workload_of_replicaset(new.group("rs"))
    return f"Name:  {workload}\n{body}" if workload != new.group("rs") else None


# the kubelet's back-off message in a container's waiting state names its pod and namespace
# (``back-off 1m20s restarting failed container=web pod=web-7c6d5b9f8-x4mzt_shop(6a1f2e3d-...)``)
_BACKED_OFF = re.compile(r"restarting failed container=\S+ pod=(?P<pod>[a-z0-9][a-z0-9.-]*)_(?P<ns>[a-z0-9-]+)\(")


def _backed_off_pod(text: str) -> ObjectRef | None:
    """The pod a container status printed alone (YAML or JSON, no ``kind``) is about, when its kubelet back-off
    message names exactly one pod; else None."""
    if not re.match(r"""^\s*(?:[{\[]|["']?(?:containerID|image|imageID|lastState|name|ready|restartCount|started|state)["']?:)""",
                    text):
        return None
    pods = {(m.group("pod"), m.group("ns")) for m in _BACKED_OFF.finditer(text)}
    if len(pods) != 1:
        return None
    [(pod, namespace)] = pods
    return ObjectRef("Pod", pod, namespace)


def _name_unnamed_events(found: Findings, obj: ObjectRef | None) -> None:
    """Events cut from a ``kubectl describe <kind> <name>`` (its Events section alone) are about that object."""
    if obj is None:
        return
    for event in found.events:
        if not event.obj.kind and not event.obj.name:
            event.obj = ObjectRef(obj.kind, obj.name, obj.namespace)


_ASSIGNED = re.compile(r"\bSuccessfully assigned (?:(?P<ns>[\w.-]+)/)?(?P<pod>[\w.-]+) to \S+")


def _assigned_pod(found: Findings) -> ObjectRef | None:
    """The pod a describe's Events section pasted alone is about, when its own scheduler event names one pod
    (``Successfully assigned billing/web-84d7f9c6b1-vw2xq to node-2``), else None."""
    pods = {(m.group("ns") or "", m.group("pod")) for e in found.events if not e.obj.kind and not e.obj.name
            for m in [_ASSIGNED.search(e.message or "")] if m}
    if len(pods) != 1:
        return None
    [(namespace, pod)] = pods
    return ObjectRef("Pod", pod, namespace)


def command_namespace(command: str) -> str:
    """The namespace a kubectl command was run in (``-n shop``, ``--namespace=shop``), "" when not given."""
    words = command.split()
    for i, word in enumerate(words):
        if word in ("-n", "--namespace") and i + 1 < len(words):
            return words[i + 1]
        if word.startswith("--namespace="):
            return word.split("=", 1)[1]
    return ""


def all_namespaces(command: str) -> bool:
    """Whether a kubectl command lists every namespace (``-A``, ``--all-namespaces``)."""
    return any(word in ("-A", "--all-namespaces") for word in command.split())


def _is_table_or_describe(text: str) -> bool:
    return is_table(text) or looks_like_describe(text) or bool(_ROLLOUT_HEADER.search(text))


def _looks_like_events(text: str) -> bool:
    lines = [line for line in text.split("\n")[:60] if line.strip()]
    if any(is_events_header(line) or _DESCRIBE_EVENTS_HEADER.match(line) for line in lines[:5]):
        return True
    rows = sum(1 for line in lines if OBJECT_ROW.match(line) or DESCRIBE_ROW.match(line))
    return bool(lines) and rows >= max(1, len(lines) // 2)


def parse_rollout_history(text: str, *, origin: str = "") -> list[Rollout]:
    """``kubectl rollout history``: the workload's latest revision and its change cause (no time is printed)."""
    found = _ROLLOUT_OBJECT.search(text)
    if not found:
        return []
    after = text.split("CHANGE-CAUSE", 1)[-1]
    rows = [m for m in (_ROLLOUT_ROW.match(line) for line in after.split("\n")) if m]
    if not rows:
        return []
    latest = max(rows, key=lambda m: int(m.group("rev")))
    cause = latest.group("cause").strip()
    return [Rollout(workload=found.group("name"), revision=latest.group("rev"),
                    detail="" if cause == "<none>" else cause, origin=origin)]


def parse_logs(text: str, *, origin: str, command: str = "") -> list[ContainerLog]:
    """Container log text; lines prefixed with their pod (``--prefix``'s ``[pod/x/c]``, ``[pod/x]``, ``x | line``,
    stern's ``x container line``: ``_PREFIX_FORMS``) are split per pod; a ``kubectl logs`` command names the pod."""
    pod, container, previous = _logs_command(command)
    previous = previous or "previous" in origin.lower()
    lines = [line for line in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    per_pod: dict[tuple[str, str], list[str]] = {}
    plain: list[str] = []
    form = _prefix_form(lines)
    for line in lines:
        match = _PREFIX.match(line) or (form.match(line) if form is not None else None)
        if match and (match.re is _PREFIX or _pod_like(match.group("pod"))):
            groups = match.groupdict()
            per_pod.setdefault((groups["pod"], groups.get("container") or ""), []).append(groups["line"])
        else:
            plain.append(line)
    out = [ContainerLog(origin=origin, lines=body, pod=p, container=c, previous=previous)
           for (p, c), body in per_pod.items()]
    if not any(line.strip() for line in plain):
        return out
    if pod or per_pod:
        out.append(ContainerLog(origin=origin, lines=plain, pod=pod, container=container, previous=previous))
        return out
    # nothing names the text's pod: logs of several containers may have been pasted one after another
    pieces = split_forms(plain)
    if len(pieces) < 2:
        return [*out, ContainerLog(origin=origin, lines=plain, container=container, previous=previous)]
    out.extend(ContainerLog(origin=origin, lines=body, container=container, previous=previous, form=form)
               for form, body in pieces)
    return out


def _pod_like(name: str) -> bool:
    """A name shaped like a controller's pod (its workload's name less a replica set hash and suffix, or an
    ordinal): ``checkout-7c9d8f6b5-x2abq``, ``web-5kx2q``, ``kafka-2``."""
    return workload_of_pod(name) != name


def _prefix_form(lines: list[str]) -> re.Pattern[str] | None:
    """The one of ``_PREFIX_FORMS`` whose pod-name prefix starts at least ``_PREFIXED_SHARE`` of the non-blank
    lines, else None: a log whose lines merely begin with a word is not read as prefixed."""
    body = [line for line in lines if line.strip()]
    if not body:
        return None
    for form in _PREFIX_FORMS:
        hits = 0
        for line in body:
            match = form.match(line)
            hits += bool(match and _pod_like(match.group("pod")))
        if hits >= _PREFIXED_SHARE * len(body):
            return form
    return None


def _exec_target(words: list[str]) -> tuple[str, str, bool]:
    """(pod, container, False) of ``kubectl [flags] exec [flags] <pod> [-c container] -- <command>``."""
    pod = container = ""
    skip = False
    for i, word in enumerate(words[1:], start=1):
        if word == "--":
            break
        if skip:
            skip = False
            if words[i - 1] in ("-c", "--container"):
                container = word
            continue
        if word in _VALUE_FLAGS:
            skip = True
        elif word.startswith("--container="):
            container = word.split("=", 1)[1]
        elif not word.startswith("-") and word != "exec" and not pod and "exec" in words[:i]:
            pod = word.split("/", 1)[1] if "/" in word else word
    return pod, container, False


def _logs_command(command: str) -> tuple[str, str, bool]:
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    verb = command_verb(" ".join(words))
    if verb == "exec":  # what a command run in the pod printed (ps, df, cat): that pod's text
        return _exec_target(words)
    if verb != "logs":  # global flags may come before the verb (kubectl -n shop logs x)
        return "", "", False
    verb_at = words.index("logs")
    pod = container = ""
    previous = False
    skip = False
    for i, word in enumerate(words[1:verb_at], start=1):  # a container flag given before the verb
        if words[i - 1] in ("-c", "--container"):
            container = word
    for i, word in enumerate(words[verb_at + 1:], start=verb_at + 1):
        if skip:
            skip = False
            if words[i - 1] in ("-c", "--container"):
                container = word
            continue
        if word in ("-p", "--previous", "--previous=true"):
            previous = True
        elif word in _VALUE_FLAGS:
            skip = True
        elif word.startswith("--container="):
            container = word.split("=", 1)[1]
        elif not word.startswith("-") and not pod:
            pod = word.split("/", 1)[1] if "/" in word else word  # pod/x, deploy/x (its workload x)
        elif not word.startswith("-") and not container:
            container = word
    return pod, container, previous
