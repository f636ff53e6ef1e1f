// The tests that need a synthesized stack run in one process, so the stack
// (and CDK's validation engine) is built once.
import './stack.cases';
import './environment.cases';
import './variants.cases';
