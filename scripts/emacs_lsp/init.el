;;; init.el --- docs/editors.md's Emacs configuration, as the documentation gives it
;;; (scripts/try_emacs_lsp.sh runs Emacs with it).

(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs
               '(python-mode . ("dropout-lint" "server"
                                :initializationOptions (:unsafeFixes :json-false)))))
(add-hook 'python-mode-hook #'eglot-ensure)

(defun dropout-lint-fix-all ()
  "Apply all of dropout-lint's fixes to the buffer, as `dropout-lint --fix' would."
  (interactive)
  (eglot-code-actions (point-min) (point-max) "source.fixAll.dropout-lint" t))
