// k8s-render renders deploy/helm/eunomia without helm, which Debian 12 does not package and
// which nothing here may download. It is the part of Helm 3's engine the chart uses, built on
// the libraries Helm itself uses, from Debian: Go's text/template, Sprig 3.2.3 (Helm 3.11–3.16's
// function library), sigs.k8s.io/yaml (Helm's toYaml and values parsing) and gojsonschema 1.2.0
// (Helm 3.0–3.17's values.schema.json check).
//
// Implemented as Helm does it: Chart.yaml (apiVersion v2), values.yaml coalesced with -f files in
// order (maps merged, a null removes a key), values.schema.json checked against the result,
// .Values .Release .Chart .Template, every Sprig function but env/expandenv, and Helm's toYaml,
// include and required; partials (_*.tpl) are not rendered; "<no value>" prints as "".
// Not implemented, and refused rather than rendered wrong: tpl, lookup, fromYaml and the other
// Helm functions (a template using one fails to parse), .Files, .Capabilities and .Subcharts (a
// template using one fails to execute), dependencies, charts/, crds/, --set. A value missing
// from the values is an error (as `helm lint --strict` renders), not an empty string.
//
// Usage: k8s-render [--name N] [--namespace NS] [-f values.yaml]... [--notes] CHART_DIR
// Prints what `helm template` prints: "---\n# Source: <chart>/templates/<file>\n<manifest>".
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/xeipuuv/gojsonschema"
	"sigs.k8s.io/yaml"
)

type chartMeta struct {
	APIVersion   string        `json:"apiVersion"`
	Name         string        `json:"name"`
	Version      string        `json:"version"`
	AppVersion   string        `json:"appVersion"`
	Description  string        `json:"description"`
	Type         string        `json:"type"`
	Home         string        `json:"home"`
	KubeVersion  string        `json:"kubeVersion"`
	Keywords     []string      `json:"keywords"`
	Sources      []string      `json:"sources"`
	Dependencies []interface{} `json:"dependencies"`
}

type release struct {
	Name      string
	Namespace string
	Service   string
	Revision  int
	IsInstall bool
	IsUpgrade bool
}

type tmplInfo struct {
	Name     string
	BasePath string
}

// The top-level object: a struct, so that .Files or .Capabilities fail instead of printing "".
type top struct {
	Values   map[string]interface{}
	Release  release
	Chart    chartMeta
	Template tmplInfo
}

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "k8s-render: "+format+"\n", a...)
	os.Exit(1)
}

func readYAMLMap(path string) map[string]interface{} {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		fail("%s: %v", path, err)
	}
	return out
}

// coalesce puts src over dst as Helm merges values files: maps key by key, anything else
// replaced, a null deleting the key.
func coalesce(dst, src map[string]interface{}) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				coalesce(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// toYaml as Helm's: sigs.k8s.io/yaml, trailing newline cut, "" on error.
func toYaml(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func required(warn string, val interface{}) (interface{}, error) {
	if val == nil {
		return val, errors.New(warn)
	}
	if s, ok := val.(string); ok && s == "" {
		return val, errors.New(warn)
	}
	return val, nil
}

func main() {
	var files valueFiles
	name, namespace, notes, dir := "eunomia", "default", false, ""
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 >= len(args) {
				fail("%s needs a value", a)
			}
			i++
			return args[i]
		}
		switch a {
		case "--name":
			name = next()
		case "--namespace", "-n":
			namespace = next()
		case "-f", "--values":
			_ = files.Set(next())
		case "--notes":
			notes = true
		default:
			if strings.HasPrefix(a, "-") || dir != "" {
				fail("unknown argument %q (usage: k8s-render [--name N] [--namespace NS] [-f values.yaml]... [--notes] CHART_DIR)", a)
			}
			dir = a
		}
	}
	if dir == "" {
		fail("no chart directory given")
	}

	var meta chartMeta
	raw, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		fail("%v", err)
	}
	if err := yaml.UnmarshalStrict(raw, &meta); err != nil {
		fail("Chart.yaml: %v (only the keys this renderer knows are accepted)", err)
	}
	if meta.APIVersion != "v2" || meta.Name == "" || !regexp.MustCompile(`^\d+\.\d+\.\d+`).MatchString(meta.Version) {
		fail("Chart.yaml: needs apiVersion v2, a name and a SemVer version")
	}
	if len(meta.Dependencies) > 0 {
		fail("Chart.yaml: dependencies are not implemented by this renderer")
	}
	for _, unsupported := range []string{"charts", "crds", "requirements.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, unsupported)); err == nil {
			fail("%s: not implemented by this renderer", unsupported)
		}
	}

	values := readYAMLMap(filepath.Join(dir, "values.yaml"))
	for _, f := range files {
		coalesce(values, readYAMLMap(f))
	}
	if schema, err := os.ReadFile(filepath.Join(dir, "values.schema.json")); err == nil {
		doc, _ := json.Marshal(values)
		res, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewBytesLoader(doc))
		if err != nil {
			fail("values.schema.json: %v", err)
		}
		if !res.Valid() {
			var b strings.Builder
			for _, e := range res.Errors() {
				fmt.Fprintf(&b, "- %s\n", e)
			}
			// Helm's words, so that the message is the one `helm install` gives.
			fail("values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n%s", meta.Name, b.String())
		}
	}

	funcs := sprig.TxtFuncMap()
	delete(funcs, "env") // Helm removes these two: a chart must not read the renderer's environment
	delete(funcs, "expandenv")
	t := template.New("gotpl").Option("missingkey=error")
	const maxDepth = 1000 // Helm's include recursion limit
	depth := 0
	funcs["toYaml"] = toYaml
	funcs["required"] = required
	funcs["include"] = func(name string, data interface{}) (string, error) {
		depth++
		defer func() { depth-- }()
		if depth > maxDepth {
			return "", fmt.Errorf("include %q: nested too deeply", name)
		}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	t.Funcs(funcs)

	tdir := filepath.Join(dir, "templates")
	entries, err := os.ReadDir(tdir)
	if err != nil {
		fail("%v", err)
	}
	var render []string
	hasNotes := false
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() {
			fail("templates/%s: subdirectories are not implemented by this renderer", n)
		}
		if !strings.HasSuffix(n, ".yaml") && !strings.HasSuffix(n, ".tpl") && n != "NOTES.txt" {
			fail("templates/%s: only .yaml, .tpl and NOTES.txt are implemented by this renderer", n)
		}
		text, err := os.ReadFile(filepath.Join(tdir, n))
		if err != nil {
			fail("%v", err)
		}
		full := meta.Name + "/templates/" + n
		if _, err := t.New(full).Parse(string(text)); err != nil {
			fail("%v", err)
		}
		switch {
		case n == "NOTES.txt":
			hasNotes = true
		case !strings.HasPrefix(n, "_"):
			render = append(render, n)
		}
	}
	sort.Strings(render)
	if notes {
		if !hasNotes {
			fail("the chart has no templates/NOTES.txt")
		}
		render = []string{"NOTES.txt"}
	}

	rel := release{Name: name, Namespace: namespace, Service: "Helm", Revision: 1, IsInstall: true}
	var out bytes.Buffer
	for _, n := range render {
		full := meta.Name + "/templates/" + n
		var buf bytes.Buffer
		data := top{Values: values, Release: rel, Chart: meta, Template: tmplInfo{Name: full, BasePath: meta.Name + "/templates"}}
		if err := t.ExecuteTemplate(&buf, full, data); err != nil {
			fail("%v", err)
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if notes {
			out.WriteString(text)
			continue
		}
		// helm template: one "# Source:" per document, empty documents left out.
		for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(text, -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", full, strings.Trim(doc, "\n"))
		}
	}
	os.Stdout.Write(out.Bytes())
}
