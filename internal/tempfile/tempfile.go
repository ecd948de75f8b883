// Package tempfile makes the temporary files and folders that the project
// writes whole and then renames into place. Unlike os.CreateTemp and
// os.MkdirTemp, which always make them private (0600, 0700) and so tempt a
// later chmod to a fixed mode, these get the permissions asked for less the
// process's umask, as any file os.OpenFile creates: a user running with
// umask 077 gets private files, and nothing here widens them.
package tempfile

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// tries bounds the search for a free name (two collisions in a row are
// already unlikely).
const tries = 10000

// Create makes a new file dir/prefix<random> with perm (less the umask),
// open for writing.
func Create(dir, prefix string, perm fs.FileMode) (*os.File, error) {
	for range tries {
		f, err := os.OpenFile(filepath.Join(dir, prefix+suffix()), os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, &fs.PathError{Op: "createtemp", Path: filepath.Join(dir, prefix+"*"), Err: fs.ErrExist}
}

// Mkdir makes a new folder dir/prefix<random> with mode 0777 less the
// umask and returns its path.
func Mkdir(dir, prefix string) (string, error) {
	for range tries {
		p := filepath.Join(dir, prefix+suffix())
		err := os.Mkdir(p, 0o777)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return p, nil
	}
	return "", &fs.PathError{Op: "mkdirtemp", Path: filepath.Join(dir, prefix+"*"), Err: fs.ErrExist}
}

func suffix() string { return strconv.FormatUint(rand.Uint64(), 36) }
