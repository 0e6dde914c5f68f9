"""Cloud recordings: one Instance per meeting instance (UUID), with its files.

Rendering follows what Zoom really sends: CC and TIMELINE files have
no id, file_size, status, recording_type or play_url; a file still being processed has
file_type "", file_extension "", file_size 0 and recording_end ""; a trashed file
appears only in trash listings, with deleted_time.  The trash has two kinds, as Zoom's
trash_type: "meeting_recordings" (files trashed with their whole instance) and
"recording_file" (files trashed one by one).
"""

import uuid as uuidlib
from dataclasses import dataclass, field

from .clock import iso
from .content import Content, FileContent

# file_type -> (file_extension, default recording_type, content kind, MIME type)
FILE_TYPES = {
    "MP4": ("MP4", "shared_screen_with_speaker_view", "binary", "video/mp4"),
    "M4A": ("M4A", "audio_only", "binary", "audio/mp4"),
    "TRANSCRIPT": ("VTT", "audio_transcript", "vtt", "text/vtt"),
    "CHAT": ("TXT", "chat_file", "chat", "text/plain"),
    "CC": ("VTT", "closed_caption", "vtt", "text/vtt"),
    "TIMELINE": ("JSON", "timeline", "timeline", "application/json"),
}
WITHOUT_ID = frozenset({"CC", "TIMELINE"})
# Size range of the text files of a default recording, in bytes.
TEXT_SIZES = {"TRANSCRIPT": (6000, 40000), "CHAT": (800, 4000), "CC": (6000, 40000),
              "TIMELINE": (2000, 12000)}
TRASH_TYPES = ("meeting_recordings", "recording_file")


def shown_in(rec, trashed):
    """Does a listing show this file?  trashed: False (the normal listing), True (any
    trashed file) or a trash type (the trash listing of that kind)."""
    if not trashed:
        return rec.deleted_time is None
    return rec.deleted_time is not None and trashed in (True, rec.trash_type)


@dataclass(eq=False, slots=True)
class RecFile:
    key: str  # the opaque token in download_url and play_url
    file_type: str
    recording_type: str
    start: object  # datetime
    end: object
    size: int  # the size once processed
    uid: int = None  # the id as a number (smaller than its text); None for CC and TIMELINE
    processing: bool = False
    file_name: str = None  # participant audio files only
    deleted_time: str = None  # set while the file is in the trash
    trash_type: str = None  # how it got there: one of TRASH_TYPES
    # Rarely set (hostile data, --external-file): templates of the download_url shown and
    # of where /rec/download redirects (see expand), and a file on disk holding the bytes.
    url: str = None
    redirect: str = None
    path: str = None
    instance: object = field(default=None, repr=False)  # the Instance holding the file

    @property
    def id(self):
        """The file's id, a UUID string as Zoom's; None for CC and TIMELINE, as on Zoom."""
        return None if self.uid is None else str(uuidlib.UUID(int=self.uid))

    @property
    def served_size(self):
        return 0 if self.processing else self.size

    @property
    def mime(self):
        return FILE_TYPES[self.file_type][3]

    def content(self, seed):
        if self.path:
            return FileContent(self.path, self.served_size)
        return Content(seed, self.key, FILE_TYPES[self.file_type][2], self.served_size)

    def expand(self, template, base):
        """A URL template: {base} (the server's base URL), {scheme}, {authority}
        (host:port) and {key} (the file key)."""
        scheme, _, authority = base.partition("://")
        return template.format(base=base, scheme=scheme, authority=authority, key=self.key)

    def download_url(self, base):
        return self.expand(self.url, base) if self.url else f"{base}/rec/download/{self.key}"

    def declared_size(self):
        """What the file contributes to total_size (Zoom counts only sizes it shows)."""
        return 0 if self.file_type in WITHOUT_ID else self.served_size

    def render(self, base, uuid, internal=False):
        if self.file_name is not None:
            out = self._render_participant(base)
        else:
            out = self._render_file(base, uuid)
        if self.deleted_time:
            out["deleted_time"] = self.deleted_time
        if internal:
            out["_key"], out["_size"] = self.key, self.served_size
            if self.deleted_time:
                out["_trash_type"] = self.trash_type
        return out

    def _render_file(self, base, uuid):
        full = self.file_type not in WITHOUT_ID
        out = {}
        if full:
            out["id"] = self.id
        out["meeting_id"] = uuid
        out["recording_start"] = iso(self.start)
        out["recording_end"] = "" if self.processing else iso(self.end)
        out["file_type"] = "" if self.processing else self.file_type
        out["file_extension"] = "" if self.processing else FILE_TYPES[self.file_type][0]
        if full:
            out["file_size"] = self.served_size
            out["play_url"] = f"{base}/rec/play/{self.key}"
        out["download_url"] = self.download_url(base)
        if full:
            out["status"] = "processing" if self.processing else "completed"
            out["recording_type"] = self.recording_type
        return out

    def _render_participant(self, base):
        return {
            "id": self.id,
            "recording_start": iso(self.start),
            "recording_end": iso(self.end),
            "file_name": self.file_name,
            "file_type": self.file_type,
            "file_size": self.served_size,
            "play_url": f"{base}/rec/play/{self.key}",
            "download_url": self.download_url(base),
            "status": "completed",
        }


@dataclass(eq=False, slots=True)
class Instance:
    uuid: str
    meeting_id: int
    host_id: str
    topic: str
    type: int
    start: object  # datetime
    duration: int  # minutes
    timezone: str
    share_token: str
    password: str
    play_passcode: str
    files: list = field(default_factory=list)
    participant_files: list = field(default_factory=list)

    def all_files(self):
        return self.files + self.participant_files

    def has_files(self, trashed):
        return any(shown_in(f, trashed) for f in self.all_files())

    def render(self, base, account_id, trashed=False, detail=False, internal=False):
        """The object of a recordings listing (trashed: of a trash listing; see shown_in).

        detail adds what GET /meetings/{id}/recordings has beyond the listing; internal
        (for /_sim/account) shows every file, trashed or not, with its key and size.
        """
        def shown(files):
            return [f for f in files if internal or shown_in(f, trashed)]

        files, participants = shown(self.files), shown(self.participant_files)
        out = {
            "uuid": self.uuid,
            "id": self.meeting_id,
            "account_id": account_id,
            "host_id": self.host_id,
            "topic": self.topic,
            "type": self.type,
            "start_time": iso(self.start),
            "timezone": self.timezone,
            "duration": self.duration,
            "total_size": sum(f.declared_size() for f in files + participants),
            "recording_count": len(files) + len(participants),
            "share_url": f"{base}/rec/share/{self.share_token}",
        }
        if detail:
            out["password"] = self.password
            out["recording_play_passcode"] = self.play_passcode
        out["recording_files"] = [f.render(base, self.uuid, internal) for f in files]
        if participants:
            out["participant_audio_files"] = [f.render(base, self.uuid, internal)
                                              for f in participants]
        return out
