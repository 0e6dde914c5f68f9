#!/bin/sh
# Nightly backup of every cloud recording, for cron:
#   15 2 * * *  /usr/local/bin/backup-recordings.sh
# The second run with nothing new downloads nothing: rsync compares sizes and
# mtimes, which zoomfs knows without downloading.
set -eu
SRC=${SRC:-/mnt/zoom/users/}
DEST=${DEST:-/backup/zoom/}
mountpoint -q "${SRC%/users/}" || { echo "zoomfs is not mounted at ${SRC%/users/}" >&2; exit 1; }
mkdir -p "$DEST"
# --partial keeps what a cut run already had; add --remove-source-files to move
# recordings out of the cloud (each file is trashed in Zoom after rsync has it).
exec rsync -a --partial --stats "$SRC" "$DEST"
