"""The model's per-book memo: writers running in parallel threads share one result."""

import threading
import time

from ebook_builder.model import ConvertedBook, once_per_book


def book() -> ConvertedBook:
    return ConvertedBook(book=None, chapters=[], images=[])  # type: ignore[arg-type]


def test_a_result_is_made_once_per_book_even_when_two_threads_ask_together():
    calls = []

    @once_per_book
    def render(converted: ConvertedBook) -> object:
        calls.append(converted)
        time.sleep(0.05)  # long enough for the second thread to ask meanwhile
        return object()

    first, second = book(), book()
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(render(first))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and results[0] is results[1]
    assert render(second) is not results[0]  # books are told apart by identity
    assert calls == [first, second]
