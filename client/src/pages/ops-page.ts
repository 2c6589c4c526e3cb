// `/ops`: the live spend view. A page shell for now; the ops dashboard fills #ops-root.
export {};
