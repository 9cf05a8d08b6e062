package childtest

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func TestPattern(t *testing.T) {
	helpers := []string{"TestChild", "TestChild.Hold"}
	tests := []struct {
		user  string
		want  string
		ok    bool
		skips []string
		runs  []string
	}{
		{"", `^(TestChild|TestChild\.Hold)$`, true,
			[]string{"TestChild", "TestChild.Hold"}, []string{"TestChildren", "TestChildXHold", "TestOther"}},
		{"TestSlow", `TestSlow|^(TestChild|TestChild\.Hold)$`, true,
			[]string{"TestChild", "TestSlowOne"}, []string{"TestOther"}},
		{"TestA/sub", "", false, nil, nil},
	}
	for _, tc := range tests {
		got, ok := Pattern(tc.user, helpers)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Pattern(%q) = %q, %v; want %q, %v", tc.user, got, ok, tc.want, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		re := regexp.MustCompile(got)
		for _, name := range tc.skips {
			if !re.MatchString(name) {
				t.Errorf("pattern %q does not leave out %s", got, name)
			}
		}
		for _, name := range tc.runs {
			if re.MatchString(name) {
				t.Errorf("pattern %q leaves out %s", got, name)
			}
		}
	}
}

const childEnv = "CHILDTEST_TEST_CHILD"

func TestMain(m *testing.M) {
	Main(m, os.Getenv(childEnv) != "", "TestHelper")
}

// TestHelper is this package's own helper test: it says it ran.
func TestHelper(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Fatal("a helper test ran in an ordinary run")
	}
	os.Stdout.WriteString("helper ran\n")
}

// TestMainLeavesHelpersOut runs this test binary as an ordinary run and as
// a child: the helper must be silent in the first and run in the second.
func TestMainLeavesHelpersOut(t *testing.T) {
	ordinary, err := exec.Command(os.Args[0], "-test.v", "-test.run=^TestHelper$").CombinedOutput()
	if err != nil {
		t.Fatalf("ordinary run: %v\n%s", err, ordinary)
	}
	if strings.Contains(string(ordinary), "TestHelper") || strings.Contains(string(ordinary), "helper ran") {
		t.Errorf("an ordinary run mentions the helper:\n%s", ordinary)
	}
	cmd := exec.Command(os.Args[0], "-test.v", "-test.run=^TestHelper$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	child, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child run: %v\n%s", err, child)
	}
	if !strings.Contains(string(child), "helper ran") || !strings.Contains(string(child), "--- PASS: TestHelper") {
		t.Errorf("the child did not run the helper:\n%s", child)
	}
}
