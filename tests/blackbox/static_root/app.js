console.log("static");
