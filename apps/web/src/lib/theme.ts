export type ThemeChoice = "system" | "light" | "dark";
export const THEME_KEY = "berth-theme";

/** Runs inline in <head> before first paint so the page never flashes the wrong theme. */
export const themeInitScript = `(function(){try{var c=localStorage.getItem("${THEME_KEY}");var d=c==="dark"||((!c||c==="system")&&window.matchMedia("(prefers-color-scheme: dark)").matches);document.documentElement.classList.toggle("dark",d);}catch(e){}})();`;

export function applyTheme(choice: ThemeChoice) {
  const dark = choice === "dark" || (choice === "system" && window.matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.classList.toggle("dark", dark);
}
