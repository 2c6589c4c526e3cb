import { css } from "lit";

// Design tokens shared by the elements, light and dark. Every colour the elements paint comes from
// here; hosts restyle through the `--cm-*` custom properties (client/README.md lists them) on any
// ancestor, or per element. A dark set applies with theme="dark", or with no theme attribute when
// the system prefers dark; theme="light" keeps the light set whatever the system says.
const light = css`
  --_accent: var(--cm-accent, #5b4bea);
  --_text: var(--cm-text, #1d1d27);
  --_muted: var(--cm-muted, #5f5f70);
  --_surface: var(--cm-surface, #ffffff);
  --_surface-2: var(--cm-surface-2, #f3f3f8);
  --_border: var(--cm-border, #e0e0ea);
  --_warn-bg: var(--cm-warn-bg, #fff4c2);
  --_warn-border: var(--cm-warn-border, #e9c63a);
  --_warn-text: var(--cm-warn-text, #4d3b00);
  --_cta-bg: var(--cm-cta-bg, #1d1d27);
  --_cta-text: var(--cm-cta-text, #ffffff);
  --_live: var(--cm-live, #1f9d63);
  --_stale: var(--cm-stale, #c98a00);
  --_shadow: var(--cm-shadow, 0 12px 32px rgb(20 20 40 / 14%));
  --_hover: var(--cm-hover, rgb(0 0 0 / 6%));
`;
const dark = css`
  --_accent: var(--cm-accent, #a99cff);
  --_text: var(--cm-text, #ececf3);
  --_muted: var(--cm-muted, #a5a5b8);
  --_surface: var(--cm-surface, #1c1c26);
  --_surface-2: var(--cm-surface-2, #262633);
  --_border: var(--cm-border, #363646);
  --_warn-bg: var(--cm-warn-bg, #3a3010);
  --_warn-border: var(--cm-warn-border, #8a7020);
  --_warn-text: var(--cm-warn-text, #ffe28a);
  --_cta-bg: var(--cm-cta-bg, #ffe28a);
  --_cta-text: var(--cm-cta-text, #1d1d27);
  --_live: var(--cm-live, #3ccf8e);
  --_stale: var(--cm-stale, #f0b429);
  --_shadow: var(--cm-shadow, 0 12px 32px rgb(0 0 0 / 45%));
  --_hover: var(--cm-hover, rgb(255 255 255 / 8%));
`;

export const theme = css`
  :host {
    ${light}
    --_radius: var(--cm-radius, 12px);
    font-family: var(--cm-font, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
    color: var(--_text);
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme="light"])) {
      ${dark}
    }
  }
  :host([theme="dark"]) {
    ${dark}
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
  .num {
    font-variant-numeric: tabular-nums;
  }
  .stale .num {
    opacity: 0.55;
  }
  .hint {
    display: inline-flex;
    align-items: center;
    gap: 6px;
    font-size: 12px;
    color: var(--_muted);
  }
  .hint::before {
    content: "";
    width: 7px;
    height: 7px;
    border-radius: 50%;
    background: var(--_stale);
  }
  :focus-visible {
    outline: 2px solid var(--_accent);
    outline-offset: 2px;
  }
`;
