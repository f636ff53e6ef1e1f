// Package deploy holds no code: it is the home of the tests that check the
// deployment material in this directory (Dockerfile, runner image) against the
// binary it packages. See docs/deploy-aws.md.
package deploy
