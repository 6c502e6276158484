"""The demo's micro-batcher: concurrent requests share a batch, keep their settings and get their own answers."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import OVERFIT_PAIRS

from seq2seq.app.batching import MicroBatcher
from seq2seq.app.inputs import InputError
from seq2seq.app.predict import Request, Settings, predict, translate_requests


def fake_request(text, beam=5, lp=None):
    return Request([text], Settings(beam_size=beam, length_penalty=lp))


def test_concurrent_requests_are_batched_by_settings_and_answered_each_their_own():
    calls = []
    gate = threading.Event()

    def run(requests, done):
        gate.wait(5)  # hold the worker so that the others queue up behind the first batch
        calls.append([(r.sentences[0], r.settings) for r in requests])
        assert len({r.settings for r in requests}) == 1
        return [f"{r.sentences[0]}|beam{r.settings.beam_size}" for r in requests]

    b = MicroBatcher(run, max_batch=16, max_wait=0.05)
    first = b.submit(fake_request("x0"))
    futs = [b.submit(fake_request(f"x{i}", beam=1 if i % 2 else 5)) for i in range(1, 9)]
    gate.set()
    assert first.result(5) == "x0|beam5"
    for i, f in enumerate(futs, 1):
        assert f.result(5) == f"x{i}|beam{1 if i % 2 else 5}"
    assert len(calls) <= 3 and max(len(c) for c in calls) >= 4  # the queued requests shared batches


def test_a_failing_batch_fails_only_its_callers():
    def run(requests, done):
        if any(r.sentences[0] == "boom" for r in requests):
            raise RuntimeError("decoder failed")
        return [r.sentences[0] for r in requests]

    b = MicroBatcher(run, max_wait=0.0)
    bad = b.submit(fake_request("boom", beam=3))
    with pytest.raises(RuntimeError):
        bad.result(5)
    assert b.submit(fake_request("fine")).result(5) == "fine"


def test_predict_through_the_batcher_matches_predict_alone(toy_translator):
    b = MicroBatcher(lambda reqs, done: translate_requests(toy_translator, reqs, done), max_batch=8, max_wait=0.05)
    texts = [z for z, _ in OVERFIT_PAIRS]
    with ThreadPoolExecutor(6) as pool:
        preds = list(pool.map(lambda t: predict(toy_translator, t, batcher=b, beam_size=5), texts))
    assert [p.translation for p in preds] == [e for _, e in OVERFIT_PAIRS]
    assert b.batches < len(texts)  # some requests were decoded together
    alone = predict(toy_translator, texts[0], beam_size=5)
    assert preds[0].sentences[0].attention.shape == alone.sentences[0].attention.shape
    with pytest.raises(InputError):  # bad input is refused before it reaches the batch
        predict(toy_translator, "", batcher=b, beam_size=5)


def test_a_request_is_answered_as_soon_as_it_is_done_not_when_its_batch_is():
    """The sentences that need a PyTorch search with the placeholder limits come last in a batch
    (Translator.translate's ``ready``): the others' callers are answered before, and a second worker serves the
    next batch meanwhile."""
    release = threading.Event()

    def run(requests, done):
        for k, r in enumerate(requests):
            if r.sentences[0] != "slow":
                done(k, r.sentences[0])
        release.wait(5)  # the slow one's search
        return [r.sentences[0] for r in requests]

    b = MicroBatcher(run, max_batch=16, max_wait=0.05)
    slow, fast = b.submit(fake_request("slow")), b.submit(fake_request("fast"))
    assert fast.result(2) == "fast" and not slow.done()
    assert b.submit(fake_request("later")).result(2) == "later"  # the other worker
    release.set()
    assert slow.result(5) == "slow"


def test_translate_requests_hands_on_each_request_once_complete(toy_translator):
    requests = [Request([z for z, _ in OVERFIT_PAIRS[:2]], Settings()), Request([OVERFIT_PAIRS[2][0]], Settings())]
    done = {}
    per = translate_requests(toy_translator, requests, lambda k, outs: done.setdefault(k, outs))
    assert sorted(done) == [0, 1] and all(done[k] is per[k] for k in done)
    assert [t.text for t in per[0]] == [e for _, e in OVERFIT_PAIRS[:2]] and per[1][0].text == OVERFIT_PAIRS[2][1]
