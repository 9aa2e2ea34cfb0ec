package config

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestReadProperties(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []property
	}{
		{"equals", "a=b\n", []property{{"a", "b", 1}}},
		{"colon", "a:b", []property{{"a", "b", 1}}},
		{"blank separator", "a b c", []property{{"a", "b c", 1}}},
		{"blanks around separator", "  a \t = \t b  ", []property{{"a", "b  ", 1}}},
		{"empty value", "a=\nb", []property{{"a", "", 1}, {"b", "", 2}}},
		{"comments", "# x=y\n  ! z=w\na=1 # not a comment", []property{{"a", "1 # not a comment", 3}}},
		{"blank lines and CRLF", "\r\n\r\na=1\r\nb=2\rc=3", []property{{"a", "1", 3}, {"b", "2", 4}, {"c", "3", 5}}},
		{"continuation", "a=one \\\n    two\\\n three\nb=4", []property{{"a", "one twothree", 1}, {"b", "4", 4}}},
		{"continuation CRLF", "a=x\\\r\n  y", []property{{"a", "xy", 1}}},
		{"even backslashes do not continue", "a=x\\\\\nb=y", []property{{"a", `x\`, 1}, {"b", "y", 2}}},
		{"continued line is not a comment", "a=x\\\n#y", []property{{"a", "x#y", 1}}},
		{"continuation at EOF", "a=x\\", []property{{"a", "x", 1}}},
		{"comment does not continue", "#a\\\nb=1", []property{{"b", "1", 2}}},
		{"escaped separator in key", `a\=b\:c\ d=e`, []property{{"a=b:c d", "e", 1}}},
		{"escapes in value", `a=\t\n\r\f\u0041\z\\`, []property{{"a", "\t\n\r\fAz\\", 1}}},
		{"backslash path", `dataDir=C:\data`, []property{{"dataDir", "C:data", 1}}},
		{"utf8", "dataDir=/srv/zoo/données", []property{{"dataDir", "/srv/zoo/données", 1}}},
		{"bom", "\uFEFFtickTime=1", []property{{"tickTime", "1", 1}}},
		{"duplicates kept in order", "a=1\na=2", []property{{"a", "1", 1}, {"a", "2", 2}}},
		{"key only", "lonely", []property{{"lonely", "", 1}}},
		{"separator only", "=v", []property{{"", "v", 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readProperties(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("readProperties(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("readProperties(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestReadPropertiesMalformedUnicode(t *testing.T) {
	for _, in := range []string{`a=\u12`, `a=\uZZZZ`, `\u00g1=1`} {
		if _, err := readProperties(strings.NewReader(in)); err == nil {
			t.Errorf("readProperties(%q) = nil error, want malformed \\u error", in)
		}
	}
}

const propsJava = `
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

public class Props {
  static String hex(String s) {
    StringBuilder b = new StringBuilder();
    for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x));
    return b.toString();
  }
  public static void main(String[] args) throws Exception {
    for (String f : args) {
      Properties p = new Properties();
      try (Reader r = new InputStreamReader(new FileInputStream(f), StandardCharsets.UTF_8)) {
        p.load(r);
      } catch (IllegalArgumentException e) {
        System.out.println("ERROR");
        continue;
      }
      StringBuilder sb = new StringBuilder("OK");
      for (String k : p.stringPropertyNames()) sb.append(',').append(hex(k)).append('=').append(hex(p.getProperty(k)));
      System.out.println(sb);
    }
  }
}
`

// TestReadPropertiesMatchesJava feeds the same inputs to java.util.Properties
// and to readProperties and compares the resulting maps.
func TestReadPropertiesMatchesJava(t *testing.T) {
	javac, java := lookTool(t, "javac"), lookTool(t, "java")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Props.java"), []byte(propsJava), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, javac, "-d", dir, filepath.Join(dir, "Props.java")).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}

	inputs := []string{
		"a=b", "a:b", "a b", " a = b ", "a\\\n b", "a\\\r\n\tb\\\n\n c", "#c\\\na=1", "!x\na=1",
		`a\ b=c`, `a=\u0041\u00e9`, `a=\q\\\`, "a=1\\\n#2", "a\t\f:=b", "=", ":", "\\", "a=\\\\\\\n x",
		"k=v\rk2=v2\n\rk3", "tickTime=2000\nserver.1=h:1:2;3", "  \n\t\n", "a=\\u",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "=", ":", " ", "\t", "\\", "#", "!", "\n", "\r", "\r\n", "u", "0", "f", "é", "\\u0041"}
	for range 400 {
		var b strings.Builder
		for range rng.IntN(24) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		inputs = append(inputs, b.String())
	}
	files := make([]string, len(inputs))
	for i, in := range inputs {
		files[i] = filepath.Join(dir, fmt.Sprintf("in%d.properties", i))
		if err := os.WriteFile(files[i], []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(ctx, java, append([]string{"-cp", dir, "Props"}, files...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("java Props: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<20)
	for i, in := range inputs {
		if !sc.Scan() {
			t.Fatalf("java printed %d results for %d inputs", i, len(inputs))
		}
		javaLine := sc.Text()
		props, err := readProperties(strings.NewReader(in))
		if javaLine == "ERROR" {
			if err == nil {
				t.Errorf("input %q: Java rejects it, readProperties accepts it", in)
			}
			continue
		}
		if err != nil {
			t.Errorf("input %q: Java accepts it, readProperties: %v", in, err)
			continue
		}
		want := map[string]string{}
		for _, kv := range strings.Split(javaLine, ",")[1:] {
			k, v, _ := strings.Cut(kv, "=")
			kb, kerr := hex.DecodeString(k)
			vb, verr := hex.DecodeString(v)
			if kerr != nil || verr != nil {
				t.Fatalf("Java's answer %q: %v %v", javaLine, kerr, verr)
			}
			want[string(kb)] = string(vb)
		}
		got := map[string]string{}
		for _, p := range props {
			got[p.Key] = p.Value
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("input %q:\n readProperties %q\n java          %q", in, got, want)
		}
	}
}

// lookTool finds an executable, skipping the test when it is missing unless
// ZKGO_INTEROP_REQUIRED=1 (as in CI), where it fails instead.
func lookTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s not found (install the Debian package openjdk-17-jdk-headless)", name)
	if os.Getenv("ZKGO_INTEROP_REQUIRED") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
