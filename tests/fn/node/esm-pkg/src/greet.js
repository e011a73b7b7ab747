export const greet = (name) => `hello ${name} from an ES module`;
