// The editor bundle of Kiteflow's web UI: CodeMirror 6 with JSON and JavaScript, line numbers, history, bracket
// matching, autocompletion (the dataset's attribute paths after "{") and diagnostics shown at their line.
// Built once at dev time by build.sh into src/Kiteflow.Server/Ui/assets/vendor/codemirror.js.
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection, placeholder as placeholderExt } from '@codemirror/view';
import { EditorState, Compartment } from '@codemirror/state';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { syntaxHighlighting, defaultHighlightStyle, HighlightStyle, bracketMatching, indentOnInput } from '@codemirror/language';
import { json } from '@codemirror/lang-json';
import { javascript } from '@codemirror/lang-javascript';
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { setDiagnostics, lintGutter } from '@codemirror/lint';
import { tags } from '@lezer/highlight';

// Colours that hold in light and dark (the page's CSS variables set the rest).
const style = HighlightStyle.define([
  { tag: tags.keyword, color: 'var(--cm-keyword, #a626a4)' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--cm-string, #50a14f)' },
  { tag: [tags.number, tags.bool, tags.null], color: 'var(--cm-number, #b76b01)' },
  { tag: tags.propertyName, color: 'var(--cm-property, #4078f2)' },
  { tag: tags.comment, color: 'var(--cm-comment, #7d8590)', fontStyle: 'italic' },
  { tag: [tags.function(tags.variableName), tags.definition(tags.variableName)], color: 'var(--cm-function, #0184bc)' },
]);

/**
 * Creates an editor in parent. options: {language: 'json'|'javascript', doc, label, onChange(text), completions(): [{label, detail}],
 * placeholder, nonce}. CodeMirror writes its styles into a <style> element: the page's Content-Security-Policy admits it by
 * the nonce the server put in the page (style-src 'nonce-…'; scripts need no such exception). Answers {view, getText(), setText(text), setErrors([{line, message}]), focus()}.
 */
export function createEditor(parent, options) {
  const completions = options.completions ?? (() => []);
  const macroSource = (context) => {
    const before = context.matchBefore(/\{[\w.\-+=]*$/);
    if (!before) return null;
    return {
      from: before.from + 1,
      options: completions().map((c) => ({ label: c.label, detail: c.detail, type: 'variable', apply: `${c.label}}` })),
      validFor: /^[\w.\-+=]*$/,
    };
  };
  const extensions = [
    lineNumbers(), highlightActiveLineGutter(), highlightActiveLine(), drawSelection(), history(), bracketMatching(), closeBrackets(), indentOnInput(),
    syntaxHighlighting(style), syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    options.language === 'javascript' ? javascript() : json(),
    autocompletion({ override: [macroSource], activateOnTyping: true }),
    lintGutter(),
    keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, indentWithTab]),
    EditorView.contentAttributes.of({ 'aria-label': options.label ?? 'Code', 'aria-multiline': 'true' }),
    EditorView.updateListener.of((update) => { if (update.docChanged) options.onChange?.(update.state.doc.toString()); }),
    options.placeholder ? placeholderExt(options.placeholder) : [],
    options.nonce ? EditorView.cspNonce.of(options.nonce) : [],
  ];
  const view = new EditorView({ state: EditorState.create({ doc: options.doc ?? '', extensions }), parent });
  return {
    view,
    getText: () => view.state.doc.toString(),
    setText(text) { view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }); },
    setErrors(errors) {
      const doc = view.state.doc;
      const diagnostics = (errors ?? []).map((e) => {
        const line = doc.line(Math.min(Math.max(1, e.line ?? 1), doc.lines));
        return { from: line.from, to: Math.max(line.to, line.from), severity: 'error', message: e.message };
      });
      view.dispatch(setDiagnostics(view.state, diagnostics));
    },
    focus: () => view.focus(),
  };
}

export { Compartment, EditorView };
