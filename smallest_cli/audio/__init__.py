"""Audio, one module per job; numpy, soundfile and sounddevice are imported only inside the
functions that need them, so importing any of these costs no more than the standard library.

* `formats`: what audio is, with no audio library: rates, encodings, containers (`sniff`),
  the formats `tts say` writes. Shared with the emulator.
* `codecs`: samples in and out (bytes ↔ floats, G.711, frames), decoding a whole clip.
* `resample`: streaming band-limited resampling.
* `sources`: files, pipes and stdin as a stream for the realtime STT API.
* `capture`: the microphone.
* `devices`: sound devices: --device values, checking there is one to record from or play on.
* `sinks`: files, pipes and speakers as destinations for PCM.
"""
