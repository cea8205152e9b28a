;;; drive.el --- drive eglot against `dropout-lint server' as a person would  -*- lexical-binding: t -*-
;; Loaded after init.el by scripts/try_emacs_lsp.sh, in the work folder it prepares, in a
;; real terminal (`emacs -nw' under `script', so timers, redisplay and eldoc behave as for a
;; person); the same steps and files as scripts/vim_lsp/drive.vim and
;; scripts/nvim_lsp/drive.lua. It writes what Emacs shows to $DL_OUT/emacs.log, the
;; protocol's messages (eglot's events buffer) to $DL_OUT/events.log, and quits.
(require 'cl-lib)
(require 'seq)
(require 'lisp-mnt)
(require 'eglot)

(defvar dl-out (getenv "DL_OUT"))
(defvar dl-work default-directory "The work folder, where the files to edit are.")

(defun dl-log (format-string &rest args)
  (let ((line (concat (apply #'format format-string args) "\n"))
        (coding-system-for-write 'utf-8-emacs))
    (write-region line nil (expand-file-name "emacs.log" dl-out) 'append 'silent)))

(defun dl-wait (what condition &optional seconds)
  "Let Emacs run (timers, the server's messages, redisplay) until CONDITION holds."
  (let ((start (float-time)) ok)
    (while (and (not (setq ok (funcall condition))) (< (- (float-time) start) (or seconds 30)))
      (sit-for 0.02))
    (dl-log "%s: %s after %.0f ms" what (if ok "ok" "TIMEOUT") (* 1000 (- (float-time) start)))
    ok))

(defun dl-library-version (library)
  "LIBRARY's version, as its header says."
  (with-temp-buffer
    (insert-file-contents (locate-library (concat library ".el")))
    (lm-version)))

(defun dl-diagnostics ()
  (sort (flymake-diagnostics) (lambda (a b) (< (flymake-diagnostic-beg a) (flymake-diagnostic-beg b)))))

(defun dl-position (pos)
  (save-excursion (goto-char pos) (format "%d:%d" (line-number-at-pos) (1+ (current-column)))))

(defun dl-dump ()
  (dolist (d (dl-diagnostics))
    (let ((lsp (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data d)))))
      (dl-log "diagnostic: %s-%s %s code=%s source=%s href=%s | %s"
              (dl-position (flymake-diagnostic-beg d)) (dl-position (flymake-diagnostic-end d))
              (flymake-diagnostic-type d) (plist-get lsp :code) (plist-get lsp :source)
              (or (plist-get (plist-get lsp :codeDescription) :href) "-")
              (truncate-string-to-width (flymake-diagnostic-text d) 80)))))

(defun dl-open (path count)
  "Visit PATH as `C-x C-f' does and wait for COUNT findings.
The command loop runs `post-command-hook' after each command: there,
`eglot-ensure' starts eglot; this driver runs no command loop, so it
runs the hook itself."
  (find-file (expand-file-name path dl-work))
  (run-hooks 'post-command-hook)
  (dl-log "\n== %s (%s)" path major-mode)
  (and (dl-wait "eglot managing the buffer" (lambda () (bound-and-true-p eglot--managed-mode)))
       (dl-wait (format "%d findings shown" count) (lambda () (= (length (flymake-diagnostics)) count)))))

(defun dl-goto (line column)
  (goto-char (point-min)) (forward-line (1- line)) (move-to-column column))

(defun dl-actions (line)
  "Log the code actions eglot gets for LINE."
  (dl-goto line 0)
  (dolist (action (eglot-code-actions (line-beginning-position) (line-end-position)))
    (dl-log "action on line %d: [%s] %s%s%s" line (plist-get action :kind) (plist-get action :title)
            (if (eq (plist-get action :isPreferred) t) " (preferred)" "")
            (if (plist-get action :edit) " (edit included)" ""))))

(defun dl-apply (line pattern)
  "Run `M-x eglot-code-actions' with point on LINE and pick the action
whose title matches PATTERN in its menu."
  (dl-goto line 12)
  ;; Run from the keyboard (last event a key, not a mouse click), eglot offers
  ;; the actions with `completing-read'.
  (cl-letf ((last-nonmenu-event ?\r)
            ((symbol-function 'completing-read)
             (lambda (prompt collection &rest _)
               (let* ((titles (mapcar #'car collection))
                      (pick (seq-find (lambda (title) (string-match-p pattern title)) titles)))
                 (dl-log "menu %S: %S -> %S" prompt titles pick)
                 (or pick (error "No action matches %s" pattern))))))
    (call-interactively #'eglot-code-actions)))

(defun dl-line (line)
  (save-excursion (dl-goto line 0) (buffer-substring-no-properties (line-beginning-position) (line-end-position))))

(defun dl-hover (line)
  "What eldoc shows with point on LINE: eglot's hover function's answer."
  (dl-goto line 12)
  (let (shown (answered nil))
    (eglot-hover-eldoc-function (lambda (doc &rest _) (setq shown doc answered t)))
    (dl-wait (format "hover on line %d answered" line) (lambda () answered) 10)
    (dl-log "hover on line %d: %s" line
            (if shown (format "%S (%d lines)" (car (split-string shown "\n")) (length (split-string shown "\n")))
              "nothing"))))

(defun dl-drive ()
  (dl-log "emacs %s, eglot %s (%s), jsonrpc %s, flymake %s, eldoc %s" emacs-version
          (dl-library-version "eglot") (locate-library "eglot")
          (dl-library-version "jsonrpc") (dl-library-version "flymake") (dl-library-version "eldoc"))
  (when (dl-open "qf/mnist.py" 2)
    (let ((server (eglot-current-server)))
      (dl-log "server: %s, pid %s" (eglot--server-info server) (process-id (jsonrpc--process server))))
    (dl-dump)
    (dl-hover 29) (dl-hover 28) (dl-hover 27)
    (dl-actions 28) (dl-actions 29)
    (dl-apply 29 "^Fix DRP001")
    (dl-wait "quick fix applied" (lambda () (not (string-match-p "F\\.dropout(x, 0\\.2)" (dl-line 29)))))
    (dl-wait "findings refreshed (1 left)" (lambda () (= (length (flymake-diagnostics)) 1)))
    (dl-dump)
    (save-buffer))
  (when (dl-open "all/mnist.py" 2)
    (call-interactively #'dropout-lint-fix-all)
    (dl-wait "fix-all applied" #'buffer-modified-p)
    (save-buffer))
  (when (dl-open "cmd/mnist.py" 2)
    ;; The server applies this through workspace/applyEdit, which eglot asks to confirm.
    (cl-letf (((symbol-function 'y-or-n-p) (lambda (prompt) (dl-log "asked: %S -> y" prompt) t)))
      (with-no-warnings           ; obsolete since eglot 1.16, for `eglot-execute'
        (eglot-execute-command (eglot-current-server) 'dropout-lint.applyFixAll
                               (vector (concat "file://" buffer-file-name))))
      (dl-wait "applyFixAll command applied" #'buffer-modified-p))
    (save-buffer))
  (when (dl-open "noqa/mnist.py" 2)
    (dl-apply 28 "^Disable DRP010")
    (dl-wait "noqa applied" (lambda () (string-match-p "noqa" (dl-line 28))))
    (save-buffer))
  (when (dl-open "type/mnist.py" 2)
    (dl-goto 30 0)
    (insert "        x = F.dropout(x, 0.3)\n")
    (dl-wait "finding for a typed line shown" (lambda () (= (length (flymake-diagnostics)) 3)))
    (dl-goto 30 28)
    (insert ", training=self.training")
    (dl-wait "finding gone once training= is typed" (lambda () (= (length (flymake-diagnostics)) 2)))
    (dl-goto 30 0)
    (delete-region (point) (line-beginning-position 2))
    (sit-for 2)
    (dl-log "after deleting the line, %d findings, on lines %S" (length (flymake-diagnostics))
            (mapcar (lambda (d) (line-number-at-pos (flymake-diagnostic-beg d))) (dl-diagnostics)))
    (revert-buffer t t))
  (when (dl-open "enc/model.py" 1)
    (dl-dump)
    (dl-apply 7 "^Fix DRP001")
    (dl-wait "quick fix after non-ASCII text applied" #'buffer-modified-p)
    (dl-log "line 7 now: %s" (dl-line 7))
    (save-buffer))
  ;; The project's settings for eglot, as docs/editors.md shows them; sent with
  ;; didChangeConfiguration by `M-x eglot-signal-didChangeConfiguration'.
  (write-region "((python-mode . ((eglot-workspace-configuration . (:dropout-lint (:unsafeFixes t))))))\n"
                nil (expand-file-name ".dir-locals.el" dl-work))
  (when (dl-open "unsafe/mnist.py" 2)
    (eglot-signal-didChangeConfiguration (eglot-current-server))
    (sit-for 1)
    (dl-actions 28)
    (dl-apply 28 "^Fix DRP010")
    (dl-wait "unsafe quick fix applied" (lambda () (string-match-p "nn\\.Dropout(0\\.5)" (dl-line 17))))
    (save-buffer))
  (when (dl-open "bad.py" 1) (dl-dump))
  (when (and (file-exists-p "big/model.py") (dl-open "big/model.py" 2))
    (dotimes (attempt 3)
      (goto-char (point-min))
      (re-search-forward "F\\.dropout(h, self\\.p)$")
      (let ((start (float-time)))
        (replace-match "F.dropout(h, self.p, training=self.training)" t t)
        (dl-log "3,000-line file, edit %d: %s after %.0f ms" (1+ attempt)
                (if (dl-wait "finding gone" (lambda () (= (length (flymake-diagnostics)) 1)))
                    "finding gone" "LATE: finding still shown")
                (* 1000 (- (float-time) start))))
      (re-search-backward "F\\.dropout(h, self\\.p, training=self\\.training)")
      (replace-match "F.dropout(h, self.p)" t t)
      (unless (dl-wait "finding back after undoing the edit" (lambda () (= (length (flymake-diagnostics)) 2)))
        (cl-return)))
    (revert-buffer t t)))

(defun dl-quit ()
  "Shut the server down as `M-x eglot-shutdown' does; log how it ended."
  (let* ((server (eglot-current-server))
         (process (and server (jsonrpc--process server))))
    (when server
      (unwind-protect
          (let ((start (float-time)))
            (eglot-shutdown server nil nil t)
            (dl-log "\nshutdown answered and exit sent after %.0f ms; server process %s, exit code %s"
                    (* 1000 (- (float-time) start)) (process-status process) (process-exit-status process)))
        (with-current-buffer (jsonrpc-events-buffer server)
          (let ((coding-system-for-write 'utf-8-emacs))
            (write-region nil nil (expand-file-name "events.log" dl-out) nil 'silent)))))))

(defun dl-main ()
  (condition-case err (dl-drive) (error (dl-log "ERROR %S" err)))
  (condition-case err (dl-quit) (error (dl-log "ERROR at shutdown %S" err)))
  (dl-log "\nmessages:\n%s" (with-current-buffer "*Messages*" (buffer-string)))
  (kill-emacs 0))

;; Run once Emacs waits for the keyboard, as a person's Emacs does between keys: eglot sends
;; edits, and flymake checks, on idle timers, and Emacs is idle only there.
(add-hook 'emacs-startup-hook (lambda () (run-with-idle-timer 0.2 nil #'dl-main)))
