package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"time"
)

// httpConn is one kept-alive HTTP/1.1 connection that sends a request and
// reads its answer, nothing more. The load must cost the machine as little
// as possible, since the server, PostgreSQL and the load share its cores:
// net/http's client spends several times more per request than the server
// under test spends on routing it. Request bytes are built into one reused
// buffer and the answer is read into another.
type httpConn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
	req  []byte
	body []byte
	// token, if set, is sent as the bearer token of the requests.
	token string
}

func dialHTTP(addr string) (*httpConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &httpConn{addr: addr, c: c, r: bufio.NewReaderSize(c, 16<<10)}, nil
}

func (h *httpConn) Close() error { return h.c.Close() }

// response is an answer's status and body; body is valid until the next
// request on the connection.
type response struct {
	status int
	body   []byte
}

// do sends one request and reads the whole answer. A body is sent as JSON.
func (h *httpConn) do(method, path string, body []byte) (response, error) {
	req := h.req[:0]
	req = append(req, method...)
	req = append(req, ' ')
	req = append(req, path...)
	req = append(req, " HTTP/1.1\r\nHost: "...)
	req = append(req, h.addr...)
	req = append(req, "\r\n"...)
	if h.token != "" {
		req = append(req, "Authorization: Bearer "...)
		req = append(req, h.token...)
		req = append(req, "\r\n"...)
	}
	if body != nil {
		req = append(req, "Content-Type: application/json\r\nContent-Length: "...)
		req = strconv.AppendInt(req, int64(len(body)), 10)
		req = append(req, "\r\n"...)
	}
	req = append(req, "\r\n"...)
	req = append(req, body...)
	h.req = req
	if _, err := h.c.Write(req); err != nil {
		return response{}, err
	}
	return h.read()
}

var (
	headerContentLength    = []byte("content-length:")
	headerTransferEncoding = []byte("transfer-encoding:")
	chunked                = []byte("chunked")
)

// read parses a status line, headers, and a body framed by Content-Length
// or chunked transfer encoding: the two framings net/http's server uses.
func (h *httpConn) read() (response, error) {
	line, err := h.line()
	if err != nil {
		return response{}, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return response{}, fmt.Errorf("malformed status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return response{}, fmt.Errorf("malformed status line %q", line)
	}
	length, isChunked := -1, false
	for {
		line, err := h.line()
		if err != nil {
			return response{}, err
		}
		if len(line) == 0 {
			break
		}
		switch {
		case hasPrefixFold(line, headerContentLength):
			n, err := strconv.Atoi(string(bytes.TrimSpace(line[len(headerContentLength):])))
			if err != nil || n < 0 {
				return response{}, fmt.Errorf("malformed header %q", line)
			}
			length = n
		case hasPrefixFold(line, headerTransferEncoding):
			isChunked = bytes.Contains(bytes.ToLower(line), chunked)
		}
	}
	h.body = h.body[:0]
	switch {
	case isChunked:
		err = h.readChunked()
	case length >= 0:
		err = h.readN(length)
	default:
		return response{}, errors.New("answer without Content-Length or chunked encoding")
	}
	if err != nil {
		return response{}, err
	}
	return response{status: status, body: h.body}, nil
}

func (h *httpConn) readChunked() error {
	for {
		line, err := h.line()
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 32)
		if err != nil || n < 0 {
			return fmt.Errorf("malformed chunk size %q", line)
		}
		if n == 0 {
			// Trailers, if any, end with an empty line.
			for {
				line, err := h.line()
				if err != nil {
					return err
				}
				if len(line) == 0 {
					return nil
				}
			}
		}
		if err := h.readN(int(n)); err != nil {
			return err
		}
		if line, err := h.line(); err != nil || len(line) != 0 {
			return fmt.Errorf("chunk not followed by CRLF: %q %v", line, err)
		}
	}
}

func (h *httpConn) readN(n int) error {
	start := len(h.body)
	h.body = slices.Grow(h.body, n)[:start+n]
	_, err := io.ReadFull(h.r, h.body[start:])
	return err
}

// line reads one CRLF-terminated line, without the CRLF. It is valid
// until the next read.
func (h *httpConn) line() ([]byte, error) {
	line, err := h.r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

func hasPrefixFold(s, prefix []byte) bool {
	return len(s) >= len(prefix) && bytes.EqualFold(s[:len(prefix)], prefix)
}
