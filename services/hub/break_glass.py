"""Break-glass, composed once at start-up for the HTTP API and the command line: one ledger reader (where the
router read each event), one group-less Kafka reader (the original message), one producer and one policy
engine, reused across requests.

The embedded Rego engine may only be used (and dropped) on the thread that created it, so every request runs
on one worker thread that owns the engine and the reader for the life of the service."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from eahub.audit.bootstrap import open_ledger
from eahub.audit.queries import trail
from eahub.core.kafka import KafkaPublisher, producer_config, read_at, reader
from eahub.core.messages import DeliveryFailed
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.settings import HubSettings
from eahub.policy.bootstrap import build_engine
from eahub.policy.break_glass import BreakGlassRequest, OverrideError, OverrideOutcome, OverrideUnavailable
from eahub.policy.model import PolicyUnavailable
from eahub.router.outputs import ResponseTimes
from eahub.router.override import BreakGlassPorts, Position, find_origin, handle_break_glass


class BreakGlass:
    """The `BreakGlassPort` of the running hub."""

    def __init__(self, settings: HubSettings) -> None:
        self._settings = settings
        self._ledger = open_ledger(settings)
        self._publisher = KafkaPublisher(producer_config(settings))
        self._pseudonymiser = Pseudonymiser.from_data_dir(settings.data_dir)
        self._local = threading.local()
        self._closed = False
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="break-glass", initializer=self._start)
        self._worker.submit(lambda: None).result()  # build the engine now, not on the first urgent request

    def _start(self) -> None:
        self._local.reader = reader(self._settings, "break-glass")
        self._local.ports = BreakGlassPorts(
            engine=build_engine(self._settings),
            publisher=self._publisher,
            pseudonymiser=self._pseudonymiser,
            times=ResponseTimes(self._settings.grade2_response_minutes, self._settings.grade3_response_minutes),
            find_origin=lambda event_id: find_origin(trail(self._ledger, event_id)),
            read_original=self._read_original,
        )

    def _read_original(self, position: Position) -> bytes | None:
        msg = read_at(self._local.reader, *position)
        return None if msg is None else msg.value()

    def request(self, request: BreakGlassRequest) -> OverrideOutcome:
        return self._worker.submit(self._handle, request).result()

    def _handle(self, request: BreakGlassRequest) -> OverrideOutcome:
        # An exception raised in here would carry this thread's frames (and through them the thread-bound
        # engine) to the thread that handles it, and drop them there. So the original is dropped here, on this
        # thread, and a fresh one of the same kind and message, carrying no frame of this work, goes out.
        failure: tuple[type[Exception], str]
        try:
            return handle_break_glass(request, self._local.ports)
        except OverrideError as exc:
            failure = type(exc), str(exc)
        except (PolicyUnavailable, DeliveryFailed) as exc:
            failure = OverrideUnavailable, f"break-glass cannot be decided or recorded right now: {exc}"
        raise failure[0](failure[1])

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        def release() -> None:
            self._local.reader.close()
            del self._local.ports  # the engine is dropped on its own thread

        self._worker.submit(release).result()
        self._worker.shutdown()
        self._publisher.close()
        self._ledger.engine.dispose()
