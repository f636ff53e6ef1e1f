package ingest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
)

const (
	sigEOCD           = "PK\x05\x06"
	sigZip64Locator   = 0x07064b50
	sigZip64EOCD      = 0x06064b50
	sigCentralHeader  = 0x02014b50
	eocdLen           = 22
	centralHeaderLen  = 46
	maxZipCommentLen  = 65535
	zip64LocatorLen   = 20
	zip64EOCDFixedLen = 56
)

// checkZipEntryCount counts central directory headers the way archive/zip
// reads them (one after another until something is not a header, whatever
// the end record declares) and refuses the archive past limit. It runs before
// zip.NewReader, which would otherwise allocate a File for each of the
// millions of 46-byte headers a hostile archive can pack into its size cap.
// When the layout cannot be parsed it returns nil and lets archive/zip report
// the damage.
func checkZipEntryCount(ra io.ReaderAt, size int64, lim Limits) error {
	if lim.MaxEntries <= 0 {
		return nil
	}
	start, declared, ok := centralDirectoryStart(ra, size)
	if !ok {
		return nil
	}
	if declared > uint64(lim.MaxEntries) {
		return tooManyEntries(lim)
	}
	r := bufio.NewReaderSize(io.NewSectionReader(ra, start, size-start), 64<<10)
	var hdr [centralHeaderLen]byte
	for n := 0; ; n++ {
		if _, err := io.ReadFull(r, hdr[:]); err != nil || binary.LittleEndian.Uint32(hdr[:4]) != sigCentralHeader {
			return nil
		}
		if n >= lim.MaxEntries {
			return tooManyEntries(lim)
		}
		skip := int(binary.LittleEndian.Uint16(hdr[28:])) + int(binary.LittleEndian.Uint16(hdr[30:])) + int(binary.LittleEndian.Uint16(hdr[32:]))
		if _, err := r.Discard(skip); err != nil {
			return nil
		}
	}
}

// centralDirectoryStart finds where archive/zip starts reading headers: the
// end record's offset minus the declared directory size (which also covers
// archives with data prepended), using the zip64 end record when present.
func centralDirectoryStart(ra io.ReaderAt, size int64) (start int64, records uint64, ok bool) {
	tailLen := min(size, eocdLen+maxZipCommentLen)
	tail := make([]byte, tailLen)
	if _, err := ra.ReadAt(tail, size-tailLen); err != nil && err != io.EOF {
		return 0, 0, false
	}
	pos := -1
	for i := len(tail) - eocdLen; i >= 0; i-- {
		if bytes.Equal(tail[i:i+4], []byte(sigEOCD)) && i+eocdLen+int(binary.LittleEndian.Uint16(tail[i+20:])) <= len(tail) {
			pos = i
			break
		}
	}
	if pos < 0 {
		return 0, 0, false
	}
	eocd := tail[pos:]
	endOffset := size - tailLen + int64(pos)
	records = uint64(binary.LittleEndian.Uint16(eocd[10:]))
	dirSize := uint64(binary.LittleEndian.Uint32(eocd[12:]))
	dirOffset := uint64(binary.LittleEndian.Uint32(eocd[16:]))
	if records == 0xffff || dirSize == 0xffffffff || dirOffset == 0xffffffff {
		var loc [zip64LocatorLen]byte
		if endOffset < zip64LocatorLen {
			return 0, 0, false
		}
		if _, err := ra.ReadAt(loc[:], endOffset-zip64LocatorLen); err == nil && binary.LittleEndian.Uint32(loc[:4]) == sigZip64Locator {
			z64Offset := int64(binary.LittleEndian.Uint64(loc[8:]))
			var rec [zip64EOCDFixedLen]byte
			if z64Offset < 0 || z64Offset > size-zip64EOCDFixedLen {
				return 0, 0, false
			}
			if _, err := ra.ReadAt(rec[:], z64Offset); err != nil || binary.LittleEndian.Uint32(rec[:4]) != sigZip64EOCD {
				return 0, 0, false
			}
			records = binary.LittleEndian.Uint64(rec[32:])
			dirSize = binary.LittleEndian.Uint64(rec[40:])
			endOffset = z64Offset
		}
	}
	if dirSize > uint64(endOffset) {
		return 0, 0, false
	}
	return endOffset - int64(dirSize), records, true
}
