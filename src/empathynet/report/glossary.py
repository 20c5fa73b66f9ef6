"""Plain words for every code and figure the report shows (its glossary)."""

from __future__ import annotations

#: Why a sentence became a rejected or failed row.
REASONS: dict[str, str] = {
    "beyond_end": "the sentence ends after the video does (subtitles of a longer cut)",
    "dialogue": "the subtitle event holds several speakers' turns (\u201c- Hi. - Hello.\u201d)",
    "overlap": "another subtitle is on screen at the same time",
    "too_short": "shorter than the shortest sentence kept (select.min_duration_ms)",
    "too_long": "longer than the longest sentence kept (select.max_duration_ms)",
    "no_face": "no face was found in the frames of the sentence",
    "face_too_small": "the largest face is smaller than the size gate (faces.large_fraction of "
    "the frame)",
    "several_faces": "more than one large face is on screen: who speaks is not clear",
    "shot_cut": "the picture cuts to another shot inside the sentence",
    "not_speaking": "the face on screen does not move its mouth with the voice (mouth score "
    "below the threshold)",
    "out_of_sync": "the voice fits the mouth only when shifted: a dub or shifted audio",
    "no_audio": "the video has no audio stream",
    "no_video": "the file has no video stream",
    "corrupt_media": "the file cannot be decoded (damaged or not a video)",
    "media_error": "decoding failed in the middle of the file",
    "error": "another error; the row's error column says which",
    "internal_error": "a bug in EmpathyNet; please report the row's error",
}

#: What the subtitle reader fixed (the build summary's "subtitle fixes").
SUBTITLE_FIXES: dict[str, str] = {
    "dialogue_split": "an event with several speakers' turns was split into one sentence per turn",
    "events_merged": "consecutive events of one sentence were joined into one sentence",
    "overlap_trimmed": "an event overlapping the next one was cut where the next begins",
    "empty_dropped": "an event with no words (only markup) was dropped",
    "credit_dropped": "a credit or subtitle-maker line was dropped",
    "absurd_time_dropped": "an event with an impossible time (negative, reversed, days long) was "
    "dropped",
    "load_warning": "the subtitle file had a problem the reader worked around",
    "vtt": "a WebVTT file was read",
    "sbv": "a YouTube SBV file was read",
}

#: The figures shown with cue groups, plots and tables.
FIGURES: dict[str, str] = {
    "face size": "the face box as a fraction of the frame (width and height, or area); a cue "
    "group needs a face larger than the gate, 0.2 by default",
    "face coverage": "the share of the sampled frames in which the speaker's face was found",
    "speaking score": "how much the mouth moves with the voice (mouth opening against voice "
    "energy); low: the person on screen is not the one speaking",
    "F0 correlation": "how well the blurred voice keeps the pitch contour of the original "
    "(Pearson r of F0; 1 is identical)",
    "speaking-rate ratio": "syllables per second of the blurred voice over the original (1: same "
    "speed)",
    "WER": "word error rate of a speech recogniser on the voice against the subtitle text; on the "
    "blurred voice it should be near 1 (the words cannot be heard)",
    "agreement": "the share of a cue group's votes that went to its label",
    "Krippendorff's \u03b1": "agreement between annotators corrected for chance, over all cue "
    "groups with 2+ votes (\u2265 0.8 reliable)",
    "Fleiss' \u03ba": "agreement between annotators corrected for chance, for a fixed number of "
    "votes per cue group",
    "top1 / top5": "the share of items whose class is the model's first (first five) guess",
    "macro F1": "F1 per class, averaged over the classes (each class counts the same)",
    "accuracy": "multiple choice: the share of items where the right option was chosen",
    "bits per dimension": "generation: negative log-likelihood of the answer cue per value "
    "(lower is better; 8 for a uniform guess over 8-bit values)",
    "95 % interval": "bootstrap interval over the items: the value would fall there in 95 of 100 "
    "resamplings",
}


def glossary_sections(
    reasons: set[str], fixes: set[str]
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The glossary entries the page needs: every reason and subtitle fix it shows (unknown
    codes say so), then every figure."""
    return [
        (
            "Why a sentence was not kept",
            [(r, REASONS.get(r, "(no description)")) for r in sorted(reasons)],
        ),
        (
            "Subtitle fixes",
            [(f, SUBTITLE_FIXES.get(f, "(no description)")) for f in sorted(fixes)],
        ),
        ("Figures", sorted(FIGURES.items(), key=lambda item: item[0].casefold())),
    ]


__all__ = ["FIGURES", "REASONS", "SUBTITLE_FIXES", "glossary_sections"]
