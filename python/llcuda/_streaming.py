"""Generator form of a streaming call: the engine call runs in a worker thread and hands each piece
to the consumer through a queue, so ``for piece in engine.stream(prompt)`` sees pieces as they are
generated. Leaving the loop early (break, an exception, Ctrl-C in the consumer) stops the generation:
the piece callback answers False from then on and the worker is joined before the generator ends.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Generic, Iterator, Optional, TypeVar

R = TypeVar("R")

_DONE = object()


class PieceStream(Generic[R]):
    """Iterate for the pieces; ``result`` holds the call's return value once iteration ended."""

    def __init__(self, run: Callable[[Callable[[str], bool]], R]):
        # run(on_piece) performs the engine call, calling on_piece(str) per piece.
        self._run = run
        self.result: Optional[R] = None

    def __iter__(self) -> Iterator[str]:
        pieces: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        cancelled = threading.Event()
        failure: list = []

        def on_piece(piece: str) -> bool:
            if cancelled.is_set():
                return False
            pieces.put(piece)
            return True

        def worker() -> None:
            try:
                self.result = self._run(on_piece)
            except BaseException as e:  # handed to the consumer, raised there
                failure.append(e)
            finally:
                pieces.put(_DONE)

        thread = threading.Thread(target=worker, name="llcuda-stream", daemon=True)
        thread.start()
        try:
            while True:
                item = pieces.get()
                if item is _DONE:
                    break
                yield item
        finally:
            cancelled.set()
            thread.join()
        if failure:
            raise failure[0]
