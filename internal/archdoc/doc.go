// Package archdoc holds the test that docs/architecture.md's drawing of
// the packages matches their imports: dependencies point down the page.
package archdoc
