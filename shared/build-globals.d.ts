// The build sees neither DOM nor Node types, so that nothing browser-only or Node-only slips into
// the contract. The WHATWG URL class is a global in both; the part the contract uses is declared here.
declare class URL {
  constructor(url: string, base?: string);
  readonly protocol: string;
  readonly hostname: string;
  readonly username: string;
  readonly password: string;
}
