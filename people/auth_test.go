package people_test

import (
	"github.com/uprinfo/presession/staff"
	"github.com/uprinfo/presession/web"
)

// withDirectory makes a's staff cookie and API tokens resolve in d.
func withDirectory(a *web.Auth, d *staff.Directory) {}
