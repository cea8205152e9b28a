"""The libcst visitors of the rules, one module each, named as the rule's module: imported only
when a file reaches libcst (see :mod:`dropout_lint.engine.rule_visitor`)."""
