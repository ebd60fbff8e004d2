package deploy

import (
	"encoding/json"
	"fmt"
	"strings"
)

// instruction is one Dockerfile instruction: its keyword in upper case, its
// flags (--from=build) and the rest of the line.
type instruction struct {
	keyword string
	flags   map[string]string
	args    string
}

// stage is a FROM and the instructions up to the next FROM.
type stage struct {
	base, name   string
	instructions []instruction
}

// parseDockerfile reads the subset of the Dockerfile syntax the service
// images use: comments, line continuations, FROM ... [AS name], and
// instructions with --flag=value options. It refuses anything before the
// first FROM and a FROM it cannot read.
func parseDockerfile(text string) ([]stage, error) {
	var stages []stage
	for _, line := range logicalLines(text) {
		keyword, rest, _ := strings.Cut(line, " ")
		ins := instruction{keyword: strings.ToUpper(keyword), flags: map[string]string{}}
		rest = strings.TrimSpace(rest)
		for strings.HasPrefix(rest, "--") {
			var flag string
			flag, rest, _ = strings.Cut(rest, " ")
			name, value, _ := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
			ins.flags[name] = value
			rest = strings.TrimSpace(rest)
		}
		ins.args = rest
		if ins.keyword == "FROM" {
			f := strings.Fields(rest)
			switch {
			case len(f) == 1:
				stages = append(stages, stage{base: f[0]})
			case len(f) == 3 && strings.EqualFold(f[1], "AS"):
				stages = append(stages, stage{base: f[0], name: f[2]})
			default:
				return nil, fmt.Errorf("cannot read FROM %s", rest)
			}
			continue
		}
		if len(stages) == 0 {
			return nil, fmt.Errorf("%s before the first FROM", ins.keyword)
		}
		last := &stages[len(stages)-1]
		last.instructions = append(last.instructions, ins)
	}
	return stages, nil
}

// logicalLines joins continued lines (ending in \) and drops comments and
// blank lines.
func logicalLines(text string) []string {
	var out []string
	var cur strings.Builder
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if body, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(body)
			continue
		}
		cur.WriteString(line)
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	return out
}

// all returns the stage's instructions with the keyword.
func (s stage) all(keyword string) []instruction {
	var out []instruction
	for _, ins := range s.instructions {
		if ins.keyword == keyword {
			out = append(out, ins)
		}
	}
	return out
}

// execForm decodes an instruction's JSON array (exec form) argument.
func execForm(args string) ([]string, error) {
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		return nil, fmt.Errorf("not an exec-form JSON array: %s", args)
	}
	return argv, nil
}
