"""Speech synthesis with libespeak-ng, run in a child process of its own.

libespeak-ng keeps hidden state between calls (the same text comes out slightly different
the second time in one process, even after a re-initialise), so the demo generator runs
each batch of phrases in a fresh process: the same request then always gives the same
samples. Standard library only, so the child starts in milliseconds.

Protocol: a JSON request on stdin ``{"library", "data", "rate_wpm", "phrases": [{"text",
"voice", "pitch"}]}``; on stdout one JSON line ``{"sample_rate", "lengths"}`` followed by
the phrases' native-endian int16 mono samples, back to back. Errors go to stderr with a
non-zero exit status.
"""

from __future__ import annotations

import ctypes
import json
import sys

AUDIO_OUTPUT_SYNCHRONOUS = 2  # espeak_AUDIO_OUTPUT: samples come back through the callback
POSITION_CHARACTER = 1  # espeak_POSITION_TYPE
ESPEAK_CHARS_UTF8 = 1
PARAMETER_RATE = 1  # words per minute
PARAMETER_PITCH = 3  # 0-100, 50 = the voice's own
PARAMETER_RANGE = 4  # intonation range 0-100
INTONATION_RANGE = 70  # a little livelier than the default 50: a clear F0 contour
EE_OK = 0
RANDOM_SEED = 1

SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


def main() -> int:
    """Read a request on stdin, write the synthesised phrases on stdout."""
    request = json.loads(sys.stdin.buffer.read())
    lib = ctypes.CDLL(request["library"])
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [SynthCallback]
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    lib.espeak_Synth.restype = ctypes.c_int

    sample_rate = lib.espeak_Initialize(
        AUDIO_OUTPUT_SYNCHRONOUS, 0, request["data"].encode("utf-8"), 0
    )
    if sample_rate <= 0:
        sys.stderr.write(f"espeak_Initialize failed with data path {request['data']}\n")
        return 2

    chunks: list[bytes] = []

    def on_audio(wav: ctypes._Pointer[ctypes.c_short], count: int, events: object) -> int:
        if count > 0:
            chunks.append(ctypes.string_at(wav, count * 2))
        return 0  # 0 = go on synthesising

    callback = SynthCallback(on_audio)  # kept in a local so it outlives the synthesis
    lib.espeak_SetSynthCallback(callback)

    # Some voice variants add random jitter, seeded from the clock at start-up; a fixed seed
    # per phrase makes them repeatable. Older libraries lack the call (then only those
    # variants vary from run to run).
    seed_random = getattr(lib, "espeak_ng_SetRandSeed", None)
    if seed_random is not None:
        seed_random.argtypes = [ctypes.c_long]
        seed_random.restype = None

    outputs: list[bytes] = []
    for phrase in request["phrases"]:
        if lib.espeak_SetVoiceByName(phrase["voice"].encode("utf-8")) != EE_OK:
            sys.stderr.write(f"unknown espeak-ng voice {phrase['voice']!r}\n")
            return 3
        lib.espeak_SetParameter(PARAMETER_RATE, int(request["rate_wpm"]), 0)
        lib.espeak_SetParameter(PARAMETER_PITCH, int(phrase["pitch"]), 0)
        lib.espeak_SetParameter(PARAMETER_RANGE, INTONATION_RANGE, 0)
        if seed_random is not None:
            seed_random(RANDOM_SEED)
        text = phrase["text"].encode("utf-8")
        chunks.clear()
        status = lib.espeak_Synth(
            text, len(text) + 1, 0, POSITION_CHARACTER, 0, ESPEAK_CHARS_UTF8, None, None
        )
        lib.espeak_Synchronize()
        if status != EE_OK:
            sys.stderr.write(f"espeak_Synth failed (status {status}) on {phrase['text']!r}\n")
            return 4
        outputs.append(b"".join(chunks))

    header = {"sample_rate": sample_rate, "lengths": [len(out) // 2 for out in outputs]}
    sys.stdout.buffer.write(json.dumps(header).encode("utf-8") + b"\n")
    for out in outputs:
        sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
