package gocacheprog

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// The protocol's messages, as the go command writes and reads them (field
// names are part of the protocol; []byte fields travel as base64).

// request is a message from the go command.
type request struct {
	ID       int64
	Command  string
	ActionID []byte `json:",omitempty"`
	OutputID []byte `json:",omitempty"`
	BodySize int64  `json:",omitempty"`
}

// response is a message to the go command.
type response struct {
	ID            int64
	Err           string     `json:",omitempty"`
	KnownCommands []string   `json:",omitempty"` // only in the first message, ID 0
	Miss          bool       `json:",omitempty"`
	OutputID      []byte     `json:",omitempty"`
	Size          int64      `json:",omitempty"`
	Time          *time.Time `json:",omitempty"`
	DiskPath      string     `json:",omitempty"`
}

const (
	cmdGet   = "get"
	cmdPut   = "put"
	cmdClose = "close"
)

// Serve speaks the protocol with a go command: it reads requests from in and
// writes responses to out, answering gets and puts concurrently, until a
// close request (answered once every other request is answered and every
// bucket write is done) or the end of in (the go command went away). It
// returns an error only when in is not the protocol (the go command cannot
// be answered then) or out cannot be written.
func (c *Cache) Serve(in io.Reader, out io.Writer) error {
	s := &session{c: c, bw: bufio.NewWriter(out)}
	s.enc = json.NewEncoder(s.bw)
	if err := s.reply(&response{KnownCommands: []string{cmdGet, cmdPut, cmdClose}}); err != nil {
		return err
	}
	dec := json.NewDecoder(bufio.NewReaderSize(in, 64<<10))
	for {
		var req request
		if err := dec.Decode(&req); err != nil {
			s.wg.Wait()
			if errors.Is(err, io.EOF) {
				return s.err()
			}
			return fmt.Errorf("reading a request: %w", err)
		}
		switch req.Command {
		case cmdGet:
			s.wg.Go(func() { s.get(&req) })
		case cmdPut:
			var body []byte
			if req.BodySize > 0 {
				// encoding/json decodes a base64 string into a []byte.
				if err := dec.Decode(&body); err != nil {
					s.wg.Wait()
					return fmt.Errorf("reading the body of put %d: %w", req.ID, err)
				}
			}
			s.wg.Go(func() { s.put(&req, body) })
		case cmdClose:
			s.wg.Wait()
			if err := s.reply(&response{ID: req.ID}); err != nil {
				return err
			}
			return s.err()
		default:
			if err := s.reply(&response{ID: req.ID, Err: fmt.Sprintf("gocacheprog: unknown command %q", req.Command)}); err != nil {
				return err
			}
		}
	}
}

// session is one go command's conversation.
type session struct {
	c  *Cache
	wg sync.WaitGroup // the requests being answered, and their bucket writes

	mu     sync.Mutex // guards the fields below, and serialises replies
	bw     *bufio.Writer
	enc    *json.Encoder // to bw
	outErr error         // the first failure to write a reply
}

func (s *session) reply(r *response) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outErr != nil {
		return s.outErr
	}
	err := s.enc.Encode(r)
	if err == nil {
		err = s.bw.Flush()
	}
	if err != nil {
		s.outErr = fmt.Errorf("writing a response: %w", err)
	}
	return s.outErr
}

func (s *session) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outErr
}

func (s *session) get(req *request) {
	var aid id
	if len(req.ActionID) != idSize {
		s.reply(&response{ID: req.ID, Err: fmt.Sprintf("gocacheprog: get: ActionID of %d bytes, want %d", len(req.ActionID), idSize)})
		return
	}
	copy(aid[:], req.ActionID)
	e, ok, err := s.c.Get(aid)
	if err != nil {
		s.c.stats.errors.Add(1)
		s.c.warn(warnRead, "get of action %x (answered as a miss): %v", aid, err)
	}
	if !ok {
		s.reply(&response{ID: req.ID, Miss: true})
		return
	}
	s.reply(&response{ID: req.ID, OutputID: e.OutputID[:], Size: e.Size, Time: &e.Time, DiskPath: e.DiskPath})
}

func (s *session) put(req *request, body []byte) {
	var aid, oid id
	switch {
	case len(req.ActionID) != idSize || len(req.OutputID) != idSize:
		s.reply(&response{ID: req.ID, Err: fmt.Sprintf("gocacheprog: put: ActionID of %d bytes and OutputID of %d, want %d", len(req.ActionID), len(req.OutputID), idSize)})
		return
	case int64(len(body)) != req.BodySize:
		s.reply(&response{ID: req.ID, Err: fmt.Sprintf("gocacheprog: put: a body of %d bytes, announced as %d", len(body), req.BodySize)})
		return
	}
	copy(aid[:], req.ActionID)
	copy(oid[:], req.OutputID)
	var write func()
	path, err := s.c.putThen(aid, oid, body, func(w func()) { write = w })
	if err != nil {
		s.reply(&response{ID: req.ID, Err: err.Error()})
		return
	}
	// The go command needs only the local file: answer, then write the
	// bucket (Serve waits for it before answering close).
	s.reply(&response{ID: req.ID, DiskPath: path})
	write()
}
