"""What `smallest voices preview` does: let a user hear a voice.

The catalog's preview clip is fetched (without the API key, with the client's retries and
errors) and decoded; a voice without a clip, a clip that cannot be fetched or read, and any
--text are spoken through the speech API instead, in the model the voice serves. The audio
goes where `destinations` says (a file, stdout or the speakers), as `tts say`'s does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from smallest_cli.destinations import Destination, destinations, note_headerless
from smallest_cli.errors import APIError

if TYPE_CHECKING:
    from smallest_cli.api.voices import Voice
    from smallest_cli.audio.formats import AudioFormat
    from smallest_cli.context import AppContext

SAMPLE_SENTENCE = "Hello! This is {name}, one of the voices of Smallest AI."
SAMPLE_RATE = 24000  # of a spoken sample
WRITE_BYTES = 8192


@dataclass(frozen=True)
class PreviewJob:
    obj: AppContext
    file_output: str | None
    file_format: AudioFormat | None
    stdout_format: AudioFormat | None
    play: bool
    device: str | int | None

    @classmethod
    def build(cls, obj: AppContext, destination: Destination) -> PreviewJob:
        """Check where the audio goes before anything is fetched."""
        from smallest_cli.audio.devices import device_of

        return cls(obj, *destinations(obj, destination), device_of(destination.device))

    def run(self, voice: Voice, text: str | None) -> None:
        """Hear `voice`: its clip, or `text` (else a sample sentence) spoken in it."""
        from smallest_cli.audio.sinks import open_sinks

        audio = self.clip(voice) if text is None else None
        pcm, rate = audio if audio is not None else self.spoken(voice, text)
        sink = open_sinks(
            self.file_output, self.file_format, self.stdout_format, self.play, self.device, rate
        )
        try:
            for start in range(0, len(pcm), WRITE_BYTES):
                sink.write(pcm[start : start + WRITE_BYTES])
            sink.close()
        except BaseException:
            sink.abort()
            raise
        note_headerless(self.obj, self.file_output, self.file_format, rate)

    def clip(self, voice: Voice) -> tuple[bytes, int] | None:
        """The catalog's preview clip as 16-bit mono PCM and its rate; None (with a warning
        when there was one) if there is none to play."""
        from smallest_cli.audio.codecs import decode_clip

        if voice.preview_url is None:
            return None
        try:
            with self.obj.client() as client:
                data = client.voices.preview_clip(voice)
            try:
                return decode_clip(data)
            except ValueError as exc:
                raise APIError(f"the preview is not audio soundfile can read ({exc})") from None
        except APIError as error:
            self.obj.output.warn(
                f"the preview clip could not be fetched ({error.message}); speaking a sample instead"
            )
            return None

    def spoken(self, voice: Voice, text: str | None) -> tuple[bytes, int]:
        """`text`, else a sample sentence, spoken in `voice` by the model that serves it."""
        from smallest_cli.api.tts import SpeechRequest
        from smallest_cli.jobs.voice_catalog import speaking_model

        request = SpeechRequest(
            text=text or SAMPLE_SENTENCE.format(name=voice.display_name),
            voice_id=voice.voice_id,
            model=speaking_model(voice),
            sample_rate=SAMPLE_RATE,
        )
        with self.obj.client() as client:
            return client.tts.synthesize(request), SAMPLE_RATE
