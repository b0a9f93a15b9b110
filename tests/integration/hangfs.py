"""A filesystem whose writes can hang, as a log on a network filesystem does when its
server goes away: FUSE, files in memory. Run as ``hangfs.py MOUNTPOINT HOLD``: while the
file HOLD exists, every write waits. Unmounting (umount) ends it."""

import errno
import os
import stat
import sys
import time

import fusepy


class HangFs(fusepy.Operations):
    def __init__(self, hold):
        self.hold = hold
        self.files = {}  # path -> bytearray
        self.modes = {}
        self.now = time.time()

    def getattr(self, path, fh=None):
        if path == "/":
            return {"st_mode": stat.S_IFDIR | 0o755, "st_nlink": 2}
        if path not in self.files:
            raise fusepy.FuseOSError(errno.ENOENT)
        return {"st_mode": stat.S_IFREG | self.modes[path], "st_nlink": 1,
                "st_size": len(self.files[path]), "st_mtime": self.now,
                "st_ctime": self.now, "st_atime": self.now}

    def readdir(self, path, fh):
        return [".", ".."] + [p[1:] for p in self.files]

    def create(self, path, mode, fi=None):
        self.files[path] = bytearray()
        self.modes[path] = mode & 0o7777
        return 0

    def open(self, path, flags):
        if path not in self.files:
            raise fusepy.FuseOSError(errno.ENOENT)
        return 0

    def read(self, path, size, offset, fh):
        return bytes(self.files[path][offset:offset + size])

    def write(self, path, data, offset, fh):
        while os.path.exists(self.hold):
            time.sleep(0.05)
        self.files[path][offset:offset + len(data)] = data
        return len(data)

    def truncate(self, path, length, fh=None):
        del self.files[path][length:]

    def chmod(self, path, mode):
        self.modes[path] = mode & 0o7777

    def unlink(self, path):
        self.files.pop(path, None)


if __name__ == "__main__":
    fusepy.FUSE(HangFs(sys.argv[2]), sys.argv[1], foreground=True, direct_io=True)
