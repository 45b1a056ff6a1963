"""The one-process channel layer (``make run``) keeps what a busy note sends a socket while it is writing:
a group send to a full queue would be dropped without a word and that editor's copy would fall behind."""

from __future__ import annotations

import asyncio

from channels.layers import get_channel_layer


def test_a_burst_to_a_group_reaches_a_socket_that_reads_late():
    async def burst() -> list[int]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("notes-burst", channel)
        for number in range(2_000):  # 50 editors typing 5 characters a second for 8 seconds
            await layer.group_send("notes-burst", {"type": "doc.update", "number": number})
        received = []
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), timeout=1)
            except TimeoutError:
                break
            received.append(message["number"])
        await layer.group_discard("notes-burst", channel)
        return received

    assert asyncio.run(burst()) == list(range(2_000))
