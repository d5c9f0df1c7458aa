package server

import "bytes"

// Inline commands with quotes, parsed as Redis's sdssplitargs does:
// "..." understands \n \r \t \b \a \\ \" and \xHH; '...' understands \';
// a closing quote must be followed by a blank or the end of the line;
// a quote may open in the middle of an argument (a"b c" is one argument,
// ab c). An unbalanced quote is a protocol error.

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// splitQuotedArgs splits an inline line that holds a quote character.
// Arguments are appended to args (new slices: escapes change the bytes).
func splitQuotedArgs(line []byte, args [][]byte) ([][]byte, error) {
	p := 0
	for {
		for p < len(line) && isBlank(line[p]) {
			p++
		}
		if p >= len(line) {
			return args, nil
		}
		var cur []byte
		var quote byte // the open quote, 0 outside quotes
		for done := false; !done; {
			switch {
			case quote != 0:
				switch {
				case p >= len(line):
					return nil, protoErr("unbalanced quotes in request")
				case quote == '"' && line[p] == '\\' && p+3 < len(line) && line[p+1] == 'x' && isHex(line[p+2]) && isHex(line[p+3]):
					cur = append(cur, hexVal(line[p+2])<<4|hexVal(line[p+3]))
					p += 3
				case quote == '"' && line[p] == '\\' && p+1 < len(line):
					p++
					c := line[p]
					switch c {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'b':
						c = '\b'
					case 'a':
						c = '\a'
					}
					cur = append(cur, c)
				case quote == '\'' && line[p] == '\\' && p+1 < len(line) && line[p+1] == '\'':
					p++
					cur = append(cur, '\'')
				case line[p] == quote:
					if p+1 < len(line) && !isBlank(line[p+1]) {
						return nil, protoErr("unbalanced quotes in request")
					}
					done = true
				default:
					cur = append(cur, line[p])
				}
			default:
				switch {
				case p >= len(line) || isBlank(line[p]):
					done = true
				case line[p] == '"' || line[p] == '\'':
					quote = line[p]
				default:
					cur = append(cur, line[p])
				}
			}
			if p < len(line) {
				p++
			}
		}
		if cur == nil {
			cur = []byte{}
		}
		args = append(args, cur)
	}
}

// hasQuote reports whether an inline line needs splitQuotedArgs.
func hasQuote(line []byte) bool { return bytes.IndexAny(line, `"'`) >= 0 }
