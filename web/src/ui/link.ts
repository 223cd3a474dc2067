/** DADS link look: blue underlined text; on keyboard focus a yellow background inside a black outline. */
export const linkClass =
  'text-blue-1000 underline underline-offset-[calc(3/16*1rem)] hover:text-blue-1100 hover:decoration-[calc(3/16*1rem)] ' +
  'active:text-orange-700 focus-visible:rounded-4 focus-visible:bg-yellow-300 focus-visible:text-blue-1100 ' +
  'focus-visible:outline-4 focus-visible:outline-black focus-visible:outline-offset-[calc(2/16*1rem)]';
