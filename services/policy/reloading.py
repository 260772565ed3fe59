"""Policy reload without restart: poll the policy folder's content hash; when it changes, load the new
bundle, run its own `_test` rules, and switch only if both succeed. A bundle that fails to load or
fails a test is refused: the old one stays in force, with a loud log line and a counter.

Each `decide` call runs wholly on the engine it picked up at its start, so one batch (and so one
event) is decided under exactly one revision."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from eahub.core.logging import get_logger
from eahub.policy.bundle import PolicyBundle, PolicyLoadError, content_hash
from eahub.policy.engine import BundledEngine
from eahub.policy.model import Decision, PolicyRequest
from eahub.policy.test_runner import run_tests

log = get_logger(__name__)

EngineFactory = Callable[[PolicyBundle], BundledEngine]


class ReloadingEngine:
    def __init__(
        self,
        policies_dir: Path,
        factory: EngineFactory,
        interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._dir = Path(policies_dir)
        self._factory = factory
        self._interval = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._seen_hash = content_hash(self._dir)
        self._engine = factory(PolicyBundle.load(self._dir))
        self._next_check = clock() + interval_s
        self.reloads = 0
        self.reloads_refused = 0
        self.last_refusal: str | None = None

    @property
    def revision(self) -> str:
        return self._engine.revision

    @property
    def bundle(self) -> PolicyBundle:
        return self._engine.bundle

    @property
    def current(self) -> BundledEngine:
        return self._engine

    def poll(self) -> None:
        """Check the folder if the interval has passed."""
        if self._clock() >= self._next_check:
            self.check_now()

    def decide(self, requests: list[PolicyRequest]) -> list[Decision]:
        self.poll()
        engine = self._engine  # one engine, so one revision, for the whole batch
        return engine.decide(requests)

    def check_now(self) -> bool:
        """Reload if the folder changed; True when a new revision took effect."""
        with self._lock:
            self._next_check = self._clock() + self._interval
            try:
                current_hash = content_hash(self._dir)
            except OSError as exc:
                return self._refuse(f"cannot read {self._dir}: {exc}", None)
            if current_hash == self._seen_hash:
                return False
            self._seen_hash = current_hash  # refuse a bad bundle once, not on every poll
            try:
                bundle = PolicyBundle.load(self._dir)
            except PolicyLoadError as exc:
                return self._refuse("the changed policy bundle failed to load", exc.problems)
            results = run_tests(bundle)
            failed = [t.name for t in results.tests if not t.passed]
            if failed or not results.tests:
                return self._refuse(
                    "the changed policy bundle fails its own tests", failed or ["no test_* rule found"]
                )
            if bundle.revision == self._engine.revision:
                return False
            old = self._engine.revision
            self._engine = self._factory(bundle)
            self.reloads += 1
            log.info(
                "policy reloaded", old_revision=old, new_revision=bundle.revision, tests=len(results.tests)
            )
            return True

    def _refuse(self, why: str, problems: list[str] | None) -> bool:
        self.reloads_refused += 1
        self.last_refusal = why
        log.error(
            "POLICY RELOAD REFUSED; the previous policy stays in force",
            reason=why,
            problems=problems,
            revision_in_force=self._engine.revision,
            policy_reloads_refused_total=self.reloads_refused,
        )
        return False
