"""Services' log files: kept within their limits while their writers keep writing, and
read back as one stream per log across rotations (docs/logs.md).

A service's stdout (or stderr) is a *log*: a live file its writer appends to (the
containerd shim, or a host service's own process), and up to `max_files - 1` rotated
files beside it, `<log>.1` the newest. A rotation copies the live file's head into
rotated files and then cuts exactly those bytes off the live file in place
(`fallocate(FALLOC_FL_COLLAPSE_RANGE)`), so the writer never reopens anything and no
byte is lost. Every byte of a log has a *logical offset*, its position in everything the
log ever held; the live file's extended attribute says where its first byte is, which
is how a reader follows the stream across rotations without missing or repeating a
line.

- `plan`: which bytes go where, and when to look again (pure).
- `layout`: a log's files, their modes, their logical offsets, the lock.
- `rotate`: a rotation, done.
- `marks`: when the stream reached which offset, for timestamps and `--since`.
- `reader`: reading and following a log as one stream of lines.
- `keeper`: checking a set of logs periodically (rotation and marks).
- `policy`: the project's limits, on disk for every process that keeps its logs.
"""
