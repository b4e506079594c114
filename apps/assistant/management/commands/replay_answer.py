from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.assistant.models import Answer
from apps.assistant.replay import answer_replay


class Command(BaseCommand):
    help = (
        "Replay a recorded answer: search again with its recorded query, corpora, filters and "
        "fusion, check its recorded generator output again against the exact passages it was "
        "given, and report any difference in passages, statements or verdicts. Exits with "
        "status 1 when the replay differs."
    )

    def add_arguments(self, parser):
        parser.add_argument("answer_id", type=int, metavar="ID")
        parser.add_argument("--json", type=Path, dest="json_out", metavar="OUT")

    def handle(self, *args, answer_id, json_out, **options):
        answer = Answer.objects.filter(pk=answer_id).first()
        if answer is None:
            raise CommandError(f"no answer #{answer_id}")
        if json_out is not None and not json_out.parent.is_dir():
            raise CommandError(f"cannot write {json_out}: no folder {json_out.parent}")
        replay = answer_replay(answer=answer)
        self.stdout.write(
            f"Answer #{answer.pk} of {answer.created_at:%Y-%m-%d %H:%M} UTC, asked by "
            f"{answer.asker}: {answer.question!r} ({answer.status})"
        )
        for title, lines in (
            ("passages", replay.passages),
            ("statements", replay.statements),
            ("versions", replay.versions),
        ):
            self.stdout.write(f"{title}: {'the same' if not lines else ''}")
            for line in lines:
                self.stdout.write(f"  - {line}")
        self.stdout.write("The replay matches." if replay.identical else "The replay differs.")
        if json_out is not None:
            json_out.write_text(json.dumps(replay.as_dict(), indent=1))
        if not replay.identical:
            raise SystemExit(1)
