// ESLint for the browser code in service/static: `npx eslint service/static`.
//
// - The reader widget (service/static/widget) is classic scripts that service/widget.py serves
//   as one /embed.js, all in one function scope: each file may use the top-level names of the
//   others, so those names are its globals here, and top-level names used only by another file
//   are not "unused". count.js is a script of its own.
// - The moderators' console (service/static/console) is native ES modules, except admin.js, a
//   classic script.
const fs = require("node:fs");
const path = require("node:path");
const js = require("@eslint/js");
const globals = require("globals");

const WIDGET_DIR = path.join(__dirname, "service", "static", "widget");
const STANDALONE_WIDGET_FILES = ["count.js"];

/** The top-level names the widget's files declare, shared by all of them in /embed.js. */
function widgetNames() {
  const names = {};
  for (const file of fs.readdirSync(WIDGET_DIR)) {
    if (!file.endsWith(".js") || STANDALONE_WIDGET_FILES.includes(file)) continue;
    const text = fs.readFileSync(path.join(WIDGET_DIR, file), "utf8");
    for (const match of text.matchAll(/^(?:async\s+)?(?:function\*?|const|let|class)\s+([A-Za-z_$][\w$]*)/gm)) {
      names[match[1]] = "readonly";
    }
  }
  return names;
}

module.exports = [
  js.configs.recommended,
  {
    files: ["service/static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: { ...globals.browser },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  {
    files: ["service/static/widget/*.js"],
    ignores: STANDALONE_WIDGET_FILES.map((file) => `service/static/widget/${file}`),
    languageOptions: {
      globals: { ...globals.browser, ...widgetNames() },
    },
    rules: {
      "no-unused-vars": ["error", { vars: "local" }],
      // The widget's own names are configured as globals above: declaring them is the point.
      "no-redeclare": ["error", { builtinGlobals: false }],
    },
  },
  {
    files: ["service/static/console/*.js"],
    ignores: ["service/static/console/admin.js"],
    languageOptions: { sourceType: "module" },
  },
];
