"""ForwardTrack and Pump: keyframe gating, bounded queue, a timeline continuous across sources."""

from __future__ import annotations

import asyncio
import fractions

import av
import pytest
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from relay.counters import RelayCounters
from relay.forward import QUEUE_SIZE, ForwardTrack, Pump
from relay.passthrough import EncodedPacket

pytestmark = pytest.mark.asyncio

KEY, DELTA = b"\x10\x02\x00", b"\x11\x02\x00"  # VP8 frame tags


class EncodedSource(MediaStreamTrack):
    """What a passthrough receiver track yields: av.Packet, in the order put()."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.queue: asyncio.Queue[EncodedPacket | None] = asyncio.Queue()

    def put(self, data: bytes, pts: int) -> None:
        packet = av.Packet(data)
        packet.pts = pts
        packet.time_base = fractions.Fraction(1, 90000)
        packet.is_keyframe = data[0] & 1 == 0
        self.queue.put_nowait(packet)

    async def recv(self) -> EncodedPacket:
        packet = await self.queue.get()
        if packet is None:
            raise MediaStreamError
        return packet


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def started(track: ForwardTrack) -> asyncio.Task[EncodedPacket]:
    """Have the track's consumer (the sender) waiting, as it is once the connection is up."""
    waiting = asyncio.ensure_future(track.recv())
    await settle()
    return waiting


async def test_a_video_sink_starts_on_a_keyframe() -> None:
    counters = RelayCounters()
    source, sink = EncodedSource(), ForwardTrack("video", counters)
    pump = Pump(source, None)
    pump.connect(sink)
    first = await started(sink)
    source.put(DELTA, 0)
    source.put(KEY, 3000)
    source.put(DELTA, 6000)
    await settle()
    assert bytes(await first) == KEY
    assert bytes(await sink.recv()) == DELTA
    assert counters.packets_forwarded == 2
    await pump.close()


async def drain(track: ForwardTrack) -> list[int | None]:
    """The pts of every packet the track has ready."""
    ready = []
    while True:
        try:
            ready.append((await asyncio.wait_for(track.recv(), 0.05)).pts)
        except TimeoutError:
            return ready


async def test_a_full_queue_drops_until_the_next_keyframe() -> None:
    source, sink = EncodedSource(), ForwardTrack("video", RelayCounters())
    pump = Pump(source, None)
    pump.connect(sink)
    first = await started(sink)
    size = QUEUE_SIZE["video"]
    source.put(KEY, 0)
    for n in range(1, size + 4):
        source.put(DELTA, n * 3000)
    await settle()
    received = [(await first).pts, *await drain(sink)]
    assert received == [n * 3000 for n in range(len(received))]
    assert size <= len(received) < size + 4  # the sender was too slow: the rest was dropped

    source.put(DELTA, (size + 4) * 3000)  # still dropped: undecodable without what was lost
    source.put(KEY, (size + 5) * 3000)
    source.put(DELTA, (size + 6) * 3000)
    await settle()
    assert await drain(sink) == [(size + 5) * 3000, (size + 6) * 3000]
    await pump.close()


async def test_timeline_continues_when_the_source_changes() -> None:
    sink = ForwardTrack("video", RelayCounters())
    old, new = EncodedSource(), EncodedSource()
    old_pump, new_pump = Pump(old, None), Pump(new, None)
    old_pump.connect(sink)
    first = await started(sink)
    old.put(KEY, 0)
    old.put(DELTA, 3000)
    await settle()
    assert [(await first).pts, (await sink.recv()).pts] == [0, 3000]

    new_pump.connect(sink)  # a refreshed page: its RTP timeline starts again near 0
    assert old_pump.sink is None and sink.source is new_pump
    new.put(KEY, 0)
    new.put(DELTA, 3000)
    old.put(DELTA, 6000)  # the old source no longer reaches the sink
    await settle()
    assert [(await sink.recv()).pts, (await sink.recv()).pts] == [6000, 9000]
    await asyncio.gather(old_pump.close(), new_pump.close())


async def test_pump_without_sink_drops_and_ends_with_its_track() -> None:
    source = EncodedSource()
    pump = Pump(source, None)
    source.put(KEY, 0)
    source.queue.put_nowait(None)  # the receiver stopped
    await settle()
    assert source.queue.empty()
    await pump.close()


async def test_stopped_track_wakes_its_sender() -> None:
    sink = ForwardTrack("audio", RelayCounters())
    waiting = await started(sink)
    sink.stop()
    with pytest.raises(MediaStreamError):
        await waiting


async def test_packets_queued_from_an_old_source_are_not_sent_after_a_change() -> None:
    sink = ForwardTrack("video", RelayCounters())
    old, new = EncodedSource(), EncodedSource()
    old_pump, new_pump = Pump(old, None), Pump(new, None)
    old_pump.connect(sink)
    first = await started(sink)
    for n in range(4):  # the sender is slow: three of these wait in the queue
        old.put(KEY if n == 0 else DELTA, n * 3000)
    await settle()
    assert (await first).pts == 0
    new_pump.connect(sink)  # e.g. the other side reconnected from another browser
    new.put(KEY, 0)
    await settle()
    assert [bytes(p) for p in [await sink.recv()]] == [KEY]  # the new source's keyframe first
    assert await drain(sink) == []
    await old_pump.close()
    await new_pump.close()
