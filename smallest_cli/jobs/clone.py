"""What `smallest clone` does: make a voice clone from a sample, wait for it, list them.

The sample is checked (and converted when needed) before anything is sent
(audio/sample.py). The upload is sent once: a retry could make a second clone, except
after `voice_clone_timeout`, which the API says to retry, and which is retried once. The
new clone joins the cached voice catalog at once, so `tts say --voice voice_…` and
completion know it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smallest_cli.errors import APIError, APIStatusError, SmallestError, UsageError

if TYPE_CHECKING:
    from smallest_cli.api.client import SmallestClient
    from smallest_cli.api.cloning import Clone
    from smallest_cli.audio.sample import Sample
    from smallest_cli.context import AppContext

DASHBOARD = "https://app.smallest.ai/dashboard/voices"
WAIT_TIMEOUT = 300.0
POLL_SECONDS = 2.0
DONE = ("completed", "failed")
RETIRED_MODELS = ("lightning-v2", "lightning", "lightning-large")
CLEANER_SAMPLE = (
    "record 5 to 15 s of one person speaking clearly, close to the microphone, with no "
    "music or background noise, and try again"
)


@dataclass(frozen=True)
class CloneOptions:
    """What the clone is to be: its name and the optional fields of the API."""

    name: str
    model: str | None = None
    language: str | None = None
    description: str | None = None
    accent: str | None = None
    tags: tuple[str, ...] = ()


def check_options(
    name: str,
    model: str | None,
    language: str | None,
    description: str | None,
    accent: str | None,
    tags: Sequence[str],
) -> CloneOptions:
    """The options checked as the API would (REFERENCE §8.1), before any work."""
    from smallest_cli.api.cloning import MODELS
    from smallest_cli.api.constants import TTS_MODEL_LANGUAGES

    if not name.strip() or len(name) > 500:
        raise UsageError(
            "a clone's NAME has 1 to 500 characters",
            hint="give a shorter name" if name.strip() else 'give it a name, e.g. "Ana"',
        )
    if model is not None:
        spelled = model.strip().casefold().replace("_", "-")
        if spelled in RETIRED_MODELS:
            raise UsageError(
                f"voice cloning for {model} is retired",
                hint="use --model lightning-v3.1 (or lightning-v3.1-pro)",
            )
        if spelled not in MODELS:
            raise UsageError(
                f"--model {model!r} is not a cloning model",
                hint="use lightning-v3.1 or lightning-v3.1-pro",
            )
        model = spelled
    if language is not None:
        language = language.strip().casefold()
        codes = TTS_MODEL_LANGUAGES["lightning_v3.1"]
        if language not in codes:
            raise UsageError(
                f"--language {language!r} is not one lightning-v3.1 speaks",
                hint=f"use one of {', '.join(codes)}",
            )
    split = [t.strip() for tag in tags for t in tag.split(",") if t.strip()]
    return CloneOptions(name.strip(), model, language, description, accent, tuple(split))


def create(
    obj: AppContext,
    options: CloneOptions,
    sample: Sample,
    *,
    wait: bool,
    timeout: float = WAIT_TIMEOUT,
) -> Clone:
    """Upload the sample, remember the clone, wait for it when asked; the clone as it ended."""
    out = obj.output
    for note in sample.notes:
        out.info(note)
    for warning in sample.warnings:
        out.warn(warning)
    if options.language is None:
        out.warn(
            "no --language: give the language of the sample (e.g. --language en) and use the "
            "same one in `tts say`"
        )
    from smallest_cli.jobs.voice_catalog import context_key, remember_clone

    with obj.client() as client:
        try:
            clone = _upload(obj, client, options, sample)
        except KeyboardInterrupt:
            out.info(
                "The upload was interrupted after it was sent, so the clone may exist: "
                "`smallest clone list` shows it."
            )
            raise
        remember_clone(context_key(obj), clone)
        if wait and clone.status not in DONE:
            try:
                clone = wait_for(obj, client, clone, timeout)
            except KeyboardInterrupt:
                out.info(
                    f"The clone {clone.voice_id} was made; "
                    f"`smallest clone show {clone.voice_id}` says when it is ready."
                )
                raise
            remember_clone(context_key(obj), clone)  # its status now, for `tts say`
    if clone.status == "failed":
        raise APIError(
            f"the clone {clone.voice_id} failed"
            + (f": {clone.error}" if clone.error else " (the API could not use the sample)"),
            hint=CLEANER_SAMPLE,
        )
    return clone


def _upload(
    obj: AppContext, client: SmallestClient, options: CloneOptions, sample: Sample
) -> Clone:
    def send() -> Clone:
        return client.cloning.create(
            options.name,
            filename=sample.filename,
            data=sample.data,
            mime=sample.mime,
            model=options.model,
            language=options.language,
            description=options.description,
            accent=options.accent,
            tags=options.tags,
        )

    try:
        try:
            return send()
        except APIStatusError as error:
            if error.code != "voice_clone_timeout":
                raise
            obj.output.warn("the API timed out making the clone; trying once more")
            return send()
    except APIStatusError as error:
        raise explained(error) from None


def explained(error: APIStatusError) -> APIStatusError:
    """The API's cloning errors (REFERENCE §8.1), each with what to do about it."""
    text = error.message.casefold()
    if error.code == "voice_clone_timeout":
        return error.explain("the API timed out twice; try again in a few minutes")
    if error.code == "voice_clone_error":
        return error.explain(CLEANER_SAMPLE)
    if "clone limit" in text:
        return error.explain(f"delete clones you no longer use at {DASHBOARD}, or upgrade the plan")
    if "language" in text:
        return error.explain("use a language code lightning-v3.1 speaks, e.g. --language en")
    if "deprecated" in text or "lightning-v2" in text:
        return error.explain("use --model lightning-v3.1 (or lightning-v3.1-pro)")
    if "mime" in text or "type" in text or "format" in text:
        return error.explain("give the sample as WAV, MP3, MP4 or WebM")
    if "large" in text or "size" in text or error.status_code == 413:
        return error.explain("give a sample under 5 MB: 5 to 15 s of speech is enough")
    return error


def wait_for(obj: AppContext, client: SmallestClient, clone: Clone, timeout: float) -> Clone:
    """Poll the list until the clone is completed or failed; an APIError after `timeout` s."""
    from contextlib import nullcontext

    out = obj.output
    started = time.monotonic()
    spinner = (
        out._console(out.stderr, True).status(f"Cloning {clone.display_name}…")
        if out.stderr_isatty and not out.quiet
        else nullcontext()
    )
    with spinner as status:
        while clone.status not in DONE:
            elapsed = time.monotonic() - started
            if elapsed >= timeout:
                raise APIError(
                    f"the clone {clone.voice_id} is still {clone.status or 'not ready'} "
                    f"after {timeout:g} s",
                    hint=f"check later with `smallest clone show {clone.voice_id}`",
                )
            _sleep(min(POLL_SECONDS, timeout - elapsed))
            found = find(client.cloning.list(), clone.voice_id)
            if found is not None:
                clone = _keep_samples(found, clone)
            if status is not None:
                status.update(f"Cloning {clone.display_name}: {clone.status or 'waiting'}…")
    return clone


def _keep_samples(found: Clone, created: Clone) -> Clone:
    """The listed clone, with the sample clips the create answer had (the list has none)."""
    from dataclasses import replace

    return found if found.samples else replace(found, samples=created.samples)


def _sleep(seconds: float) -> None:
    time.sleep(max(0.0, seconds))


def find(clones: Sequence[Clone], voice_id: str) -> Clone | None:
    folded = voice_id.casefold()
    return next((c for c in clones if c.voice_id.casefold() == folded), None)


def next_step(clone: Clone, *, in_process: bool = False) -> str:
    """What to run next, for stderr. `in_process`: made on --emulator, whose clones end
    with the command."""
    model = " --model lightning_v3.1_pro" if clone.pools == ("lightning_v3.1_pro",) else ""
    if in_process:
        return (
            "Note: --emulator's clones end with this command; to speak in one, run "
            "`smallest emulator serve` and clone on it"
        )
    return f'Next: smallest tts say --voice {clone.voice_id}{model} "Hello"'


def fetch_clones(obj: AppContext) -> list[Clone]:
    """The account's clones; the voice cache learns them too."""
    with obj.client() as client:
        clones = client.cloning.list()
    from smallest_cli.jobs.voice_catalog import context_key, remember_clones

    remember_clones(context_key(obj), clones)
    return clones


def check_player(device: str | None) -> None:
    """Before the upload: --play-sample needs something to play on."""
    from smallest_cli.audio.devices import check_device, device_of

    try:
        check_device(device_of(device), "play")
    except UsageError:
        raise
    except SmallestError as error:
        raise SmallestError(
            f"{error.message}, so --play-sample cannot play", hint="drop --play-sample"
        ) from None


def play_sample(obj: AppContext, clone: Clone, device: str | None) -> None:
    """Play the clone's first sample clip (or, without one, a sentence spoken in it)."""
    from smallest_cli.api.voices import Voice
    from smallest_cli.audio.devices import device_of
    from smallest_cli.jobs.preview import PreviewJob

    url = clone.samples[0][1] if clone.samples else None
    voice = Voice(clone.voice_id, clone.display_name, preview_url=url, models=clone.models)
    # to the speakers even when stdout is a pipe: stdout holds the voice id alone
    PreviewJob(obj, None, None, None, True, device_of(device)).run(voice, None)


def ask(question: str, default: bool = False) -> bool:
    """A yes/no question on the terminal; Ctrl-C there is Ctrl-C (exit 130), not click's Abort."""
    import click

    try:
        return bool(click.confirm(question, default=default, err=True))
    except click.exceptions.Abort:
        raise KeyboardInterrupt from None
