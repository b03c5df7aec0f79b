"""Meetings: who met in a room and when, the recording of what happened, replay and minutes.

Pure parts (no I/O): :mod:`.tracker` (when a meeting starts and ends, who took part),
:mod:`.poses` and :mod:`.chunks` (the recording format), :mod:`.recorder` (sampling poses and
presence into chunks), :mod:`.replay` (the room at any time of a recording), :mod:`.report`
(the minutes as data and HTML). Thin shells: :mod:`.store` / :mod:`.store_sqlite` (the table of
meetings), :mod:`.logfile` (the per-meeting log file), :mod:`.service` (the room hub's observer),
:mod:`.api` (REST) and :mod:`.pdf` (WeasyPrint). See ``docs/meetings.md``.
"""
