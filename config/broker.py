"""The embedded default's broker (no REDIS_URL): kombu's filesystem transport, one file a message
in BROKER_DIR/queue, with two changes that make it safe for several processes.

- A message is written under a temporary name and renamed into the queue, so a worker never
  reads a half-written file (kombu's lock does not stop another process from taking it).
- A worker takes a message by renaming it into BROKER_DIR/taken, on the same file system, so
  exactly one consumer gets it (kombu moves it to the system temp folder, which is often another
  file system: the move is then a copy, which two consumers can both make).
Fanout (the worker ping behind /healthz, other remote control) works through kombu's exchange
tables in BROKER_DIR/control."""

from __future__ import annotations

import os
import time
import uuid
from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{time.time_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"  # not "<queue>.msg": invisible to consumers until renamed
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add a message to {self.data_folder_out!r}: {exc}") from exc

    def _get(self, queue):
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            taken = os.path.join(self.processed_folder, name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), taken)
            except OSError:
                continue  # another consumer took it first
            try:
                with open(taken, "rb") as f:
                    payload = f.read()
            finally:
                os.remove(taken)
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel


def queue_lengths(data_folder: str, queues) -> dict[str, int]:
    """Messages waiting in each queue (the dashboard's "Queued tasks")."""
    counts = dict.fromkeys(queues, 0)
    for name in os.listdir(data_folder):
        queue = name.partition(".")[2].removesuffix(".msg")
        if name.endswith(".msg") and queue in counts:
            counts[queue] += 1
    return counts
